import { createHash, randomUUID } from 'node:crypto'
import type { LowerTier, PurgeBus } from '../cache/lower-tiers.ts'
import type { Entry } from '../cache/memory-store.ts'
import type { PurgeRule } from '../cache/purge.ts'
import { variantKey } from '../http/variant-key.ts'
import type { EventLog } from '../log/events.ts'
import type { RedisLink } from './redis/link.ts'

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

/** What a key holds when its responses vary: the request headers that select a variant. */
interface VaryMeta {
  readonly variesOn: readonly string[]
}

// Kept past the end of every stale window, so that a stale entry can still be revalidated (a 304
// instead of the body again).
const keepAfterStaleS = 300

/**
 * The cache tier a group of instances shares, in Redis: one key per response (its head as JSON,
 * a newline, its body), expiring when it could no longer be served or revalidated; a varying URL's
 * own key lists the headers it varies on, as on disk. An index hash (entry → URL, tags, expiry)
 * lets a purge find what it names; each purge also drops the index's expired entries. While Redis is away a lookup misses at once and a write is dropped.
 */
export class RedisCacheTier implements LowerTier {
  readonly #link: RedisLink
  /** The last purge of this tier, done once it is: other instances are told after it. */
  purged: Promise<void> = Promise.resolve()

  constructor(link: RedisLink) {
    this.#link = link
  }

  async get(key: string, h: RequestHeaders): Promise<Entry | 'vary-miss' | undefined> {
    const found = await this.#read(key)
    if (found === undefined || 'body' in found) return found
    const variant = await this.#read(variantKey(key, found.variesOn, h))
    return variant === undefined || !('body' in variant) ? 'vary-miss' : variant
  }

  async set(key: string, url: string, entry: Entry, h: RequestHeaders): Promise<void> {
    if (!this.#link.up) return
    const ttlS = lifetimeS(entry)
    try {
      if (entry.vary.length > 0) {
        await this.#write(key, url, [], Buffer.from(`${JSON.stringify({ variesOn: entry.vary })}\n`), ttlS)
        key = variantKey(key, entry.vary, h)
      }
      const { body, ...head } = entry
      await this.#write(key, url, entry.tags, Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), body]), ttlS)
    } catch (err) {
      this.#link.failed(err)
    }
  }

  delete(test: (url: string, tags: readonly string[]) => boolean, fromElsewhere = false): number {
    // The instance that purged clears the shared tier once for all.
    if (!fromElsewhere && this.#link.up) this.purged = this.#purge(test)
    return 0
  }

  async #read(key: string): Promise<Entry | VaryMeta | undefined> {
    if (!this.#link.up) return undefined
    let data: Buffer | null
    try {
      data = await this.#link.client.getBuffer(this.#key(key))
    } catch (err) {
      this.#link.failed(err)
      return undefined
    }
    if (!data) return undefined
    const newline = data.indexOf(10)
    try {
      const head = JSON.parse(data.subarray(0, newline).toString())
      if ('variesOn' in head) return head as VaryMeta
      return { ...head, body: data.subarray(newline + 1) } as Entry
    } catch {
      return undefined
    }
  }

  async #write(key: string, url: string, tags: readonly string[], data: Buffer, ttlS: number): Promise<void> {
    const client = this.#link.client
    const name = this.#key(key)
    const until = Date.now() + ttlS * 1000
    // Two keys, two commands: in a Redis Cluster they lie in different slots.
    await Promise.all([
      client.set(name, data, 'EX', ttlS),
      client.hset(this.#index(), name, JSON.stringify({ url, tags, until })),
    ])
  }

  async #purge(test: (url: string, tags: readonly string[]) => boolean): Promise<void> {
    const client = this.#link.client
    try {
      let cursor = '0'
      do {
        const [next, fields] = await client.hscan(this.#index(), cursor, 'COUNT', 500)
        cursor = next
        const gone: string[] = []
        const now = Date.now()
        for (let i = 0; i < fields.length; i += 2) {
          const { url, tags, until } = JSON.parse(fields[i + 1]!) as { url: string; tags: string[]; until: number }
          // Entries Redis has expired leave the index here too: purges keep it to what is stored.
          if (test(url, tags) || until < now) gone.push(fields[i]!)
        }
        // One key per command: in a Redis Cluster the entries lie in different slots.
        if (gone.length > 0) {
          await Promise.all(gone.map((name) => client.del(name)))
          await client.hdel(this.#index(), ...gone)
        }
      } while (cursor !== '0')
    } catch (err) {
      this.#link.failed(err)
    }
  }

  #key(key: string): string {
    return `${this.#link.prefix}cache:${createHash('sha256').update(key).digest('hex')}`
  }

  #index(): string {
    return `${this.#link.prefix}cache-index`
  }
}

/** Seconds an entry is worth keeping: fresh, then stale but servable or revalidable. */
function lifetimeS(e: Entry): number {
  const fresh = Math.max(0, e.lifetime - e.initialAge)
  const stale = Math.max(e.staleWhileRevalidate ?? 0, e.staleIfError ?? 0)
  return Math.ceil(fresh + stale) + keepAfterStaleS
}

/**
 * Purges between instances over a Redis channel, sent once the shared tier is cleared. A rule is sent while Redis is up; one made while
 * it is away reaches only this instance (docs/SCALING.md). Each instance applies the rules others
 * publish, and logs each one.
 */
export class RedisPurges implements PurgeBus {
  readonly #link: RedisLink
  readonly #tier: RedisCacheTier
  readonly #events: EventLog
  readonly #channel: string
  // Tells this process's own rules from the others': it applied its own already.
  readonly #origin = randomUUID()
  readonly #appliers = new Map<string, Set<(rule: PurgeRule) => void>>()

  constructor(link: RedisLink, tier: RedisCacheTier, events: EventLog) {
    this.#link = link
    this.#tier = tier
    this.#events = events
    this.#channel = `${link.prefix}cache-purge`
    link.subscribe(this.#channel, (message) => this.#receive(message))
  }

  publish(name: string, rule: PurgeRule): void {
    if (!this.#link.up) return
    const message = JSON.stringify({ name, rule, origin: this.#origin })
    // After the shared tier is cleared, so that no instance told of the purge finds the old entry there.
    void this.#tier.purged
      .then(() => this.#link.client.publish(this.#channel, message))
      .catch((err: unknown) => this.#link.failed(err))
  }

  subscribe(name: string, apply: (rule: PurgeRule) => void): () => void {
    let set = this.#appliers.get(name)
    if (!set) {
      set = new Set()
      this.#appliers.set(name, set)
    }
    set.add(apply)
    return () => set.delete(apply)
  }

  #receive(message: string): void {
    let news: { name: string; rule: PurgeRule; origin: string }
    try {
      news = JSON.parse(message)
    } catch {
      return
    }
    if (news.origin === this.#origin) return
    const appliers = this.#appliers.get(news.name)
    if (!appliers || appliers.size === 0) return
    for (const apply of appliers) apply(news.rule)
    this.#events.info('purge from another instance applied', { cache: news.name, kind: news.rule.kind })
  }
}
