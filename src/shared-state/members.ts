import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { RedisLink } from './redis/link.ts'

/** One serving process of the group, as it last told. */
export interface Member {
  /** `host/pid`: one per process, so an instance with several workers is several members. */
  readonly id: string
  /** `host/pid` of the instance the process serves in: its primary's with several workers, else its own. */
  readonly instance: string
  readonly host: string
  readonly pid: number
  /** Portico's version. */
  readonly version: string
  /** When the process started, ms since the epoch. */
  readonly started: number
  /** Requests in flight to servers in this process when it last told. */
  readonly inFlight: number
  /** Requests waiting in its pools' queues when it last told. */
  readonly queued: number
  /** When it last told, ms since the epoch. */
  readonly seen: number
}

// A member that has not told for three beats is gone.
const beatMs = 5000
const goneAfterMs = 3 * beatMs

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/**
 * Tells the group that this process is in, with its version and load, every five seconds, in a
 * Redis hash with one field per process; `members` reads who is in, for the admin API and the
 * dashboard. A process that stops takes its field out; one that dies is left out once it has not
 * told for three beats. While Redis is away nothing is told, and no one is listed.
 */
export class GroupMembers {
  readonly #link: RedisLink
  readonly #load: () => { inFlight: number; queued: number }
  readonly #id = `${hostname()}/${process.pid}`
  readonly #instance: string
  readonly #started = Date.now()
  readonly #timer: NodeJS.Timeout

  /** `worker` says that this process is one of an instance's workers, whose primary is its parent. */
  constructor(link: RedisLink, load: () => { inFlight: number; queued: number }, worker = false) {
    this.#link = link
    this.#load = load
    this.#instance = worker ? `${hostname()}/${process.ppid}` : this.#id
    this.#timer = setInterval(() => void this.tell(), beatMs).unref()
    link.onUp(() => void this.tell())
    if (link.up) void this.tell()
  }

  /** Tells the group now; resolves once told (or Redis failed). */
  async tell(): Promise<void> {
    if (!this.#link.up) return
    const member: Member = {
      id: this.#id,
      instance: this.#instance,
      host: hostname(),
      pid: process.pid,
      version,
      started: this.#started,
      ...this.#load(),
      seen: Date.now(),
    }
    try {
      await this.#link.client.hset(this.#key(), this.#id, JSON.stringify(member))
    } catch (err) {
      this.#link.failed(err)
    }
  }

  /** The members in the group now, this process included, by id; empty while Redis is away. */
  members(): Promise<Member[]> {
    return readMembers(this.#link)
  }

  /** Stops telling and takes this process out of the group. */
  async leave(): Promise<void> {
    clearInterval(this.#timer)
    if (this.#link.up) await this.#link.client.hdel(this.#key(), this.#id).catch(() => {})
  }

  #key(): string {
    return membersKey(this.#link)
  }
}

function membersKey(link: RedisLink): string {
  return `${link.prefix}members`
}

/**
 * The members of the group on `link` now, by id, for a process that reads them without being one
 * (the primary of several workers); empty while Redis is away. Takes out those gone.
 */
export async function readMembers(link: RedisLink): Promise<Member[]> {
  if (!link.up) return []
  let fields: Record<string, string>
  try {
    fields = await link.client.hgetall(membersKey(link))
  } catch (err) {
    link.failed(err)
    return []
  }
  const now = Date.now()
  const members: Member[] = []
  const gone: string[] = []
  for (const [id, text] of Object.entries(fields)) {
    const m = JSON.parse(text) as Member
    if (now - m.seen > goneAfterMs) gone.push(id)
    else members.push({ ...m, instance: m.instance ?? m.id })
  }
  if (gone.length > 0) void link.client.hdel(membersKey(link), ...gone).catch(() => {})
  return members.sort((a, b) => a.id.localeCompare(b.id))
}
