import type { CacheShare } from '../cache/lower-tiers.ts'
import type { SharedState } from '../instance/shared-state.ts'
import type { EventLog } from '../log/events.ts'
import type { StickyTable } from '../upstream/balancers/balancer.ts'
import { RedisCacheTier, RedisPurges } from './cache-tier.ts'
import { type ChangeChannel, RedisChangeChannel } from './changes.ts'
import { HealthShare } from './health-share.ts'
import type { RedisLinks } from './redis/link.ts'
import type { RedisConfig } from './redis/schema.ts'
import { RedisStickyTable } from './sticky-table.ts'

/**
 * What this process shares with the other instances of its group, by the `redis` section's
 * `share` list: each part made on first use and kept across reloads, on the process's link to
 * that Redis. A part the section does not share is undefined, and Portico runs as it would alone.
 */
export class InstanceGroup {
  readonly #links: RedisLinks
  readonly #events: EventLog
  readonly #sticky = new Map<string, RedisStickyTable>()
  readonly #caches = new Map<string, CacheShare>()
  readonly #changes = new Map<string, RedisChangeChannel>()
  #health: HealthShare | undefined

  constructor(links: RedisLinks, events: EventLog) {
    this.#links = links
    this.#events = events
  }

  /** The sticky table of the group, when `config.share` has "sticky". */
  sticky(config: RedisConfig): StickyTable | undefined {
    if (!config.share.includes('sticky')) return undefined
    const id = JSON.stringify(config)
    let table = this.#sticky.get(id)
    if (!table) {
      table = new RedisStickyTable(this.#links.get(config, this.#events), this.#events)
      this.#sticky.set(id, table)
    }
    return table
  }

  /** The shared cache tier and purges of the group, when `config.share` has "cache". */
  cache(config: RedisConfig): CacheShare | undefined {
    if (!config.share.includes('cache')) return undefined
    const id = JSON.stringify(config)
    let share = this.#caches.get(id)
    if (!share) {
      const link = this.#links.get(config, this.#events)
      const tier = new RedisCacheTier(link)
      share = { tier, purges: new RedisPurges(link, tier, this.#events) }
      this.#caches.set(id, share)
    }
    return share
  }

  /** The change channel of the group, when `config.share` has "changes". */
  changes(config: RedisConfig): ChangeChannel | undefined {
    if (!config.share.includes('changes')) return undefined
    const id = JSON.stringify(config)
    let channel = this.#changes.get(id)
    if (!channel) {
      channel = new RedisChangeChannel(this.#links.get(config, this.#events), this.#events)
      this.#changes.set(id, channel)
    }
    return channel
  }

  /** Shares the health verdicts of the machine's checks with the group, when `config.share` has "health". */
  shareHealth(config: RedisConfig, shared: SharedState): void {
    if (!config.share.includes('health') || this.#health) return
    this.#health = new HealthShare(this.#links.get(config, this.#events), shared)
  }
}
