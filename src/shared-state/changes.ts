import { randomUUID } from 'node:crypto'
import type { EventLog } from '../log/events.ts'
import type { RedisLink } from './redis/link.ts'

/** A change to a pool's servers made through one instance's admin API, for every instance to apply. */
export type ServerChange =
  | { readonly kind: 'drain'; readonly pool: string; readonly server: string; readonly drained: boolean }
  | { readonly kind: 'weight'; readonly pool: string; readonly server: string; readonly weight: number }
  | { readonly kind: 'add'; readonly pool: string; readonly server: string; readonly weight?: number }
  | { readonly kind: 'remove'; readonly pool: string; readonly server: string }

/** Applies a change another process made; `version` orders the changes of the group. */
export type ApplyChange = (change: ServerChange, version: number) => void

/** How admin changes travel between the instances of a group. */
export interface ChangeChannel {
  /**
   * Sends `change`, already applied here by the caller, to every other instance; resolves with its
   * version, or undefined when Redis could not take it (the change then holds here only).
   */
  publish(change: ServerChange): Promise<number | undefined>
  /** Calls `apply` with each change made elsewhere, in version order; returns a function that stops it. */
  onChange(apply: ApplyChange): () => void
  /** The version of the last change this process has seen. */
  readonly version: number
}

interface Record {
  readonly version: number
  /** The history the version counts in: a Redis that lost its data starts a new one. */
  readonly epoch: string
  readonly origin: string
  readonly change: ServerChange
}

// One version per change; the state hash keeps the last change of each server's drain, weight and
// membership, so that a late instance replays what holds now, not every change ever made. Adding or
// removing a server ends what was said of its drain and weight. Versions count within an epoch,
// a random name the first user of a Redis gives it: a Redis restarted empty gets a new one, and
// versions that start again from 1 are not mistaken for ones seen. The channel is an argument,
// not a key: in a Redis Cluster the keys share one slot (their {changes} hash tag) and PUBLISH
// reaches every node.
const publishScript = `
local e = redis.call('GET', KEYS[3])
if not e then e = ARGV[6]; redis.call('SET', KEYS[3], e) end
local v = redis.call('INCR', KEYS[1])
if ARGV[3] == '1' then redis.call('HDEL', KEYS[2], ARGV[4] .. 'drain', ARGV[4] .. 'weight') end
local record = '{"version":' .. v .. ',"epoch":"' .. e .. '",' .. ARGV[2]
redis.call('HSET', KEYS[2], ARGV[1], record)
redis.call('PUBLISH', ARGV[5], record)
return v
`

type ChangeClient = RedisLink['client'] & {
  porticoChange(
    version: string,
    state: string,
    epoch: string,
    field: string,
    rest: string,
    clears: string,
    server: string,
    channel: string,
    newEpoch: string,
  ): Promise<number>
}

/**
 * The change channel of a group, in Redis: a version counter, a hash of what holds now, and a
 * channel that announces each change. A change arrives on the channel; one that skips a version,
 * a reconnection, and the start of the process all make it catch up from the hash, applying in
 * version order what it has not seen. A new epoch means Redis lost its data (restarted without
 * persistence): what the hash holds now is applied from its first version.
 */
export class RedisChangeChannel implements ChangeChannel {
  readonly #link: RedisLink
  readonly #events: EventLog
  readonly #keys: { version: string; state: string; epoch: string; channel: string }
  // Tells this process's own changes from the others': the caller applied its own already.
  readonly #origin = randomUUID()
  readonly #appliers = new Set<ApplyChange>()
  #version = 0
  #epoch: string | undefined
  #catchingUp: Promise<void> | undefined
  #again = false

  constructor(link: RedisLink, events: EventLog) {
    this.#link = link
    this.#events = events
    const p = link.prefix
    this.#keys = {
      version: `${p}{changes}:version`,
      state: `${p}{changes}:state`,
      epoch: `${p}{changes}:epoch`,
      channel: `${p}changes`,
    }
    const client = link.client as ChangeClient
    if (typeof client.porticoChange !== 'function')
      client.defineCommand('porticoChange', { numberOfKeys: 3, lua: publishScript })
    link.subscribe(this.#keys.channel, (message) => this.#receive(message))
    link.onUp(() => void this.catchUp())
    if (link.up) void this.catchUp()
  }

  get version(): number {
    return this.#version
  }

  async publish(change: ServerChange): Promise<number | undefined> {
    if (!this.#link.up) return undefined
    const { version, state, epoch, channel } = this.#keys
    const server = `${change.pool}\n${change.server}\n`
    const member = change.kind === 'add' || change.kind === 'remove'
    const field = server + (member ? 'member' : change.kind)
    const rest = JSON.stringify({ origin: this.#origin, change }).slice(1)
    try {
      const v = await (this.#link.client as ChangeClient).porticoChange(
        version,
        state,
        epoch,
        field,
        rest,
        member ? '1' : '0',
        server,
        channel,
        randomUUID(),
      )
      return v
    } catch (err) {
      this.#link.failed(err)
      return undefined
    }
  }

  onChange(apply: ApplyChange): () => void {
    this.#appliers.add(apply)
    return () => this.#appliers.delete(apply)
  }

  /** Applies what the hash holds beyond the last version seen; resolves once done (or Redis failed). */
  catchUp(): Promise<void> {
    if (this.#catchingUp) {
      // One runs already: it runs once more after, to see what came meanwhile.
      this.#again = true
      return this.#catchingUp
    }
    this.#catchingUp = this.#readState().finally(() => {
      this.#catchingUp = undefined
      if (this.#again) {
        this.#again = false
        void this.catchUp()
      }
    })
    return this.#catchingUp
  }

  async #readState(): Promise<void> {
    if (!this.#link.up) return
    const client = this.#link.client
    try {
      // Whoever asks first names the epoch of a Redis that has none.
      await client.set(this.#keys.epoch, randomUUID(), 'NX')
      const [epoch, state] = await Promise.all([client.get(this.#keys.epoch), client.hgetall(this.#keys.state)])
      if (epoch !== this.#epoch) {
        if (this.#epoch !== undefined) {
          this.#events.warn('Redis lost the change history: applying what it holds now', { seen: this.#version })
        }
        this.#epoch = epoch ?? undefined
        this.#version = 0
      }
      const records = Object.values(state)
        .map(parse)
        .filter((r): r is Record => r !== undefined && r.epoch === this.#epoch && r.version > this.#version)
        .sort((a, b) => a.version - b.version)
      for (const r of records) this.#apply(r)
    } catch (err) {
      this.#link.failed(err)
    }
  }

  #receive(message: string): void {
    const r = parse(message)
    if (!r) return
    if (r.epoch !== this.#epoch) {
      void this.catchUp()
      return
    }
    if (r.version <= this.#version) return
    if (r.version === this.#version + 1 && !this.#catchingUp) this.#apply(r)
    else void this.catchUp()
  }

  #apply(r: Record): void {
    this.#version = r.version
    if (r.origin === this.#origin) return
    for (const apply of this.#appliers) apply(r.change, r.version)
  }
}

function parse(text: string): Record | undefined {
  try {
    const r = JSON.parse(text) as Record
    return typeof r.version === 'number' && typeof r.change?.kind === 'string' ? r : undefined
  } catch {
    return undefined
  }
}
