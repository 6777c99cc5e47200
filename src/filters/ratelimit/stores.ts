import type { EventLog } from '../../log/events.ts'
import { RedisLinks } from '../../shared-state/redis/link.ts'
import type { RedisConfig } from '../../shared-state/redis/schema.ts'
import { LocalStore, type RateStore } from './local-store.ts'
import { machineRates } from './machine-store.ts'
import type { RateCounts } from './rate-limit.ts'
import { RedisStore } from './redis-store.ts'

/**
 * The stores rate limits count in, kept for the life of the process so that a reload keeps every
 * count: this process's own, the machine's (through the primary), and Redis's, through the
 * process's links (one per `redis` section), which the other shared state uses too.
 */
export class RateStores {
  readonly local: RateStore
  readonly machine: RateStore
  readonly #redis = new Map<string, RedisStore>()
  /** The connections to Redis, one per `redis` section, for every use of it. */
  readonly links = new RedisLinks()
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
      store = new RedisStore(this.links.get(config, events))
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
    this.#redis.clear()
    this.links.close()
  }
}
