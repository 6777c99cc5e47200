import { DiskStore } from './disk-store.ts'
import type { Entry } from './memory-store.ts'
import type { PurgeRule } from './purge.ts'
import type { CacheConfig } from './schema.ts'

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

/** A tier below memory: read when memory has no entry, written with every stored response. */
export interface LowerTier {
  /** The entry for `key` matching the request headers `h`; 'vary-miss' when the key varies and no variant matches. */
  get(key: string, h: RequestHeaders): Promise<Entry | 'vary-miss' | undefined>
  /** Stores `entry` (whose key's URL part is `url`) as the answer to the request headers `h`. */
  set(key: string, url: string, entry: Entry, h: RequestHeaders): Promise<void>
  /**
   * Removes what `test` accepts; returns how many entries went here, as far as known at once.
   * `fromElsewhere`: the purge was made by another instance, which has cleared the shared tiers.
   */
  delete(test: (url: string, tags: readonly string[]) => boolean, fromElsewhere?: boolean): number
}

/** Purges between instances: each instance applies those the others publish. */
export interface PurgeBus {
  /** Sends `rule`, made here for the cache `name`, to every other instance. */
  publish(name: string, rule: PurgeRule): void
  /** Calls `apply` with each rule another instance publishes for the cache `name`; returns a function that stops it. */
  subscribe(name: string, apply: (rule: PurgeRule) => void): () => void
}

/** What a route's cache shares with other instances: a tier under its own, and purges. */
export interface CacheShare {
  readonly tier: LowerTier
  readonly purges: PurgeBus
}

/**
 * The tiers under a route's memory tier: its disk tier, the group's shared tier, both, or none.
 * A lookup reads disk, then the shared tier, and what the shared tier has is written to disk
 * (and, by the caller, to memory): the next lookup is answered closer.
 */
export function lowerTiers(config: CacheConfig, share: CacheShare | undefined): LowerTier | undefined {
  const disk = config.disk ? new DiskStore(config.disk.path, config.disk.max_size) : undefined
  if (!share) return disk
  if (!disk) return share.tier
  return new DiskOverShared(disk, share.tier)
}

class DiskOverShared implements LowerTier {
  readonly #disk: DiskStore
  readonly #shared: LowerTier

  constructor(disk: DiskStore, shared: LowerTier) {
    this.#disk = disk
    this.#shared = shared
  }

  async get(key: string, h: RequestHeaders): Promise<Entry | 'vary-miss' | undefined> {
    const found = await this.#disk.get(key, h)
    if (found !== undefined && found !== 'vary-miss') return found
    const shared = await this.#shared.get(key, h)
    if (shared === undefined || shared === 'vary-miss') return found ?? shared
    void this.#disk.set(key, key.split('\n')[0]!, shared, h)
    return shared
  }

  async set(key: string, url: string, entry: Entry, h: RequestHeaders): Promise<void> {
    await Promise.all([this.#disk.set(key, url, entry, h), this.#shared.set(key, url, entry, h)])
  }

  delete(test: (url: string, tags: readonly string[]) => boolean, fromElsewhere = false): number {
    this.#shared.delete(test, fromElsewhere)
    return this.#disk.delete(test)
  }
}
