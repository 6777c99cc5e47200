import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import type { EventLog } from '../../log/events.ts'
import { LocalStore, type RateStore } from './local-store.ts'
import { machineRates } from './machine-store.ts'
import type { RateCounts } from './rate-limit.ts'
import { RedisStore } from './redis-store.ts'
import type { RedisConfig } from './schema.ts'

/**
 * The stores rate limits count in, kept for the life of the process so that a reload keeps every
 * count: this process's own, the machine's (through the primary), and one Redis connection per
 * `redis` section.
 */
export class RateStores {
  readonly local: RateStore
  readonly machine: RateStore
  readonly #redis = new Map<string, RedisStore>()
  /** What each limit did, by name. */
  readonly counts = new Map<string, RateCounts>()

  constructor(local: RateStore = new LocalStore(), machine: RateStore = machineRates) {
    this.local = local
    this.machine = machine
  }

  /** The Redis store for `config`, connected on first use. */
  redis(config: RedisConfig, events: EventLog): RedisStore {
    const id = JSON.stringify(config)
    let store = this.#redis.get(id)
    if (!store) {
      // Loaded only when a limit counts in Redis: most processes never need the client.
      const { Redis: RedisClass } = createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }
      store = new RedisStore(config, events, RedisClass)
      this.#redis.set(id, store)
    }
    return store
  }

  /** The counts of the limit named `name`, made on first use. */
  countsOf(name: string): RateCounts {
    let counts = this.counts.get(name)
    if (!counts) {
      counts = { rejected: 0, delayed: 0, shadowed: 0, storeErrors: 0 }
      this.counts.set(name, counts)
    }
    return counts
  }

  /** Closes the Redis connections. */
  close(): void {
    for (const store of this.#redis.values()) store.close()
    this.#redis.clear()
  }
}
