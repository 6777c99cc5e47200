import { RouteCache } from '../cache/route-cache.ts'
import type { Config } from '../config/schema.ts'
import { globalRequestPhases, routeGuardFactories, routePhaseFactories } from '../filters/index.ts'
import type { RequestPhase, RoutePhases } from '../filters/phase.ts'
import { rateLimits } from '../filters/ratelimit/index.ts'
import type { RateStores } from '../filters/ratelimit/stores.ts'
import { wafPhase } from '../filters/waf/phase.ts'
import { openCountryDb } from '../geo/country-db.ts'
import { AddressSet } from '../http/cidr.ts'
import { rulesUseCountry } from '../http/client-rules.ts'
import { traceSettings } from '../http/trace-context.ts'
import type { SharedState } from '../instance/shared-state.ts'
import type { SlotLeases } from '../instance/slot-leases.ts'
import type { WorkerPlace } from '../instance/worker-share.ts'
import type { AccessLog } from '../log/access.ts'
import type { EventLog } from '../log/events.ts'
import type { Meter } from '../metrics/meter.ts'
import { buildAction } from '../route/actions/index.ts'
import { respond } from '../route/actions/respond.ts'
import { compileConditions, matchesAll } from '../route/match/index.ts'
import type { RouteConfig } from '../route/schema.ts'
import { type Route, RouteTable } from '../route/table.ts'
import type { InstanceGroup } from '../shared-state/group.ts'
import type { Pool } from '../upstream/pool/pool.ts'
import type { ServerRegistry } from '../upstream/server-registry.ts'
import { buildPool } from './build-pool.ts'
import type { Plan } from './plan.ts'

/** What building a Plan needs besides the config: live state that outlives Plans. */
export interface PlanDeps {
  readonly registry: ServerRegistry
  readonly accessLog: AccessLog
  /** Where health changes are told. Default: nowhere. */
  readonly events?: EventLog
  /** Randomness for balancers, a number in [0, 1). Default Math.random. */
  readonly random?: () => number
  /** State shared by the machine's processes, where health verdicts go. Default: each pool its own. */
  readonly shared?: SharedState
  /** The instance's key, which sticky cookies are signed with unless a pool gives its own. Default: one random key per process. */
  readonly secret?: Buffer
  /**
   * This process's place among the workers: instance limits are split by it (`workerShare`).
   * Default: alone, the whole of every limit.
   */
  readonly place?: WorkerPlace
  /** With several workers, the `max_conns` slots this one holds. Default: all of them, no primary. */
  readonly leases?: SlotLeases
  /** Where rate limits count, kept across reloads. Default: fresh stores for this Plan. */
  readonly rates?: RateStores
  /** Where finished exchanges are counted, kept across reloads. Default: nowhere (metrics off). */
  readonly meter?: Meter
  /** What this instance shares with others through Redis (`redis.share`). Default: nothing. */
  readonly group?: InstanceGroup
}

/** Builds an immutable Plan from a validated config. Servers the registry knows keep their state. */
export function buildPlan(config: Config, deps: PlanDeps): Plan {
  const pools = new Map<string, Pool>()
  const keep = new Set<string>()
  for (const [name, poolConfig] of Object.entries(config.pools)) {
    pools.set(name, buildPool(name, poolConfig, deps, keep, config.redis))
  }
  deps.registry.retain(keep)
  traceSettings.sampleRatio = config.tracing.sample_ratio ?? (config.tracing.otlp ? 1 : 0)
  const routes = new RouteTable(
    config.routes.map((r, i) => buildRoute(r, i, pools, deps, config)),
    respond(config.no_route, 'not_found'),
  )
  return {
    config,
    routes,
    pools,
    trusted: new AddressSet(config.trusted_proxies),
    geo: usesCountry(config) ? openCountryDb(config.geo.database) : undefined,
    client: {
      maxHeaderBytes: config.limits.max_header_bytes,
      maxUriBytes: config.limits.max_uri_bytes,
      requestHeadersTimeoutMs: config.timeouts.request_headers,
      requestTimeoutMs: config.timeouts.request,
      keepAliveIdleMs: config.timeouts.keepalive_idle,
      drainIdleMs: config.timeouts.drain_idle,
      websocketIdleMs: config.timeouts.websocket_idle,
    },
    accessLog: deps.accessLog,
    meter: deps.meter,
    shutdownGraceMs: config.shutdown_grace,
  }
}

/**
 * Whether anything in the config asks for the client's country: `geo.enabled`, a `country`
 * condition, a route's `clients` list naming a country, a `{country}` variable, or a database named outright. Only then is the database read (about 8 MB
 * for the embedded one) and looked up on every request.
 */
function usesCountry(config: Config): boolean {
  if (config.geo.enabled !== undefined) return config.geo.enabled
  if (config.geo.database !== undefined) return true
  return config.routes.some(
    (r) => r.match?.country !== undefined || rulesUseCountry(r.clients) || JSON.stringify(r).includes('{country}'),
  )
}

function buildRoute(
  config: RouteConfig,
  index: number,
  pools: ReadonlyMap<string, Pool>,
  deps: PlanDeps,
  plan: Config,
): Route {
  const shared = deps.shared
  const conditions = compileConditions(config.match)
  const matchers = conditions.map((c) => c.matcher)
  const action = buildAction(config, pools)
  const responsePhases = routePhaseFactories.flatMap((f) => f.response?.(config) ?? [])
  if (action.responsePhase) responsePhases.push(action.responsePhase)
  // The cache stores the backend's response as it came, before the other phases edit it for a client.
  const name = config.name ?? `route${index}`
  const cache = config.cache?.enabled
    ? new RouteCache(config.cache, name, shared, deps.group?.cache(plan.redis), [...responsePhases])
    : undefined
  if (cache) responsePhases.unshift(cache.responsePhase)
  const named = (factories: readonly RoutePhases[]) =>
    factories.flatMap((f) => {
      const phase = f.request?.(config)
      return phase ? [[f.name, phase] as const] : []
    })
  const phases: (readonly [string, RequestPhase])[] = [
    ...globalRequestPhases.map((p) => ['limits', p] as const),
    ...named(routeGuardFactories),
    // Before any phase that reads the body: a request over the limit costs as little as possible.
    ...rateLimits(config, name, plan.redis, deps).map((p) => ['rate_limits', p] as const),
    ...(config.waf ? [wafPhase(config, plan.waf)].filter((p) => p !== undefined) : []).map((p) => ['waf', p] as const),
    ...named(routePhaseFactories),
  ]
  return {
    name,
    action,
    maxBodyBytes: config.max_body_bytes,
    upgrades: new Set(config.upgrades.map((name) => name.toLowerCase())),
    requestPhases: phases.map(([, p]) => p),
    requestPhaseNames: phases.map(([n]) => n),
    responsePhases,
    cache,
    conditions,
    matches: (x, path) => matchesAll(matchers, x, path),
  }
}
