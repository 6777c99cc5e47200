import type { Config } from '../config/schema.ts'
import type { RateStores } from '../filters/ratelimit/stores.ts'
import type { GroupRate } from '../listen/group-rate.ts'
import type { EventLog } from '../log/events.ts'

/**
 * The group's connection rate (`connections.group_rate` of a listener), counted in the Redis of
 * the current config's `redis` section with the same GCRA script as `store: redis` rate limits,
 * under `conn:<listener>:<client>`. A failed decision lets the connection in.
 */
export function groupConnectionRate(config: () => Config, rates: RateStores, events: EventLog): GroupRate {
  return async (listener, client) => {
    const c = config()
    const rate = c.listeners.find((l) => l.address === listener)?.connections.group_rate
    if (!rate) return true
    const intervalMs = rate.per / rate.rate
    try {
      const decision = await rates
        .redis(c.redis, events)
        .take(`conn:${listener}:${client}`, { intervalMs, toleranceMs: (rate.burst - 1) * intervalMs })
      return decision.allowed
    } catch {
      return true
    }
  }
}
