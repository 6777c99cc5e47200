import type { EventLog } from '../../log/events.ts'
import { silentEvents } from '../../log/events.ts'
import type { RouteConfig } from '../../route/schema.ts'
import type { RequestPhase } from '../phase.ts'
import { buildLimit, RateLimitPhase } from './rate-limit.ts'
import type { RedisConfig } from './schema.ts'
import { RateStores } from './stores.ts'

/** What building a route's limits needs besides its config. */
export interface RateLimitDeps {
  readonly events?: EventLog
  readonly rates?: RateStores
}

/** Stores for Plans built without any: one set per process. */
let processStores: RateStores | undefined

/**
 * The request phase of a route's `rate_limits`, or none when it has none. Built once per Plan;
 * the counts live in `deps.rates`, which outlive it.
 */
export function rateLimits(
  route: RouteConfig,
  routeName: string,
  redis: RedisConfig,
  deps: RateLimitDeps,
): RequestPhase[] {
  const configs = route.rate_limits
  if (!configs || configs.length === 0) return []
  const events = deps.events ?? silentEvents
  const stores = deps.rates ?? (processStores ??= new RateStores())
  const limits = configs.map((c, i) => {
    const store = c.store === 'redis' ? stores.redis(redis, events) : stores[c.store]
    const name = c.name ?? `${routeName}#${i}`
    return buildLimit(c, name, routeName, store, stores.countsOf(name))
  })
  return [new RateLimitPhase(limits, events)]
}
