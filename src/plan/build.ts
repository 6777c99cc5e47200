import { isIP } from 'node:net'
import { RouteCache } from '../cache/route-cache.ts'
import { deriveKey, loadSecret } from '../cluster/secret.ts'
import type { SharedState } from '../cluster/shared-state.ts'
import type { SlotLeases } from '../cluster/slot-leases.ts'
import { alone, type WorkerPlace, workerShare } from '../cluster/worker-share.ts'
import { splitAddress } from '../config/address.ts'
import type { Config } from '../config/schema.ts'
import { hostName } from '../exchange.ts'
import { globalRequestPhases, routeGuardFactories, routePhaseFactories } from '../filters/index.ts'
import { rateLimits } from '../filters/ratelimit/index.ts'
import type { RateStores } from '../filters/ratelimit/stores.ts'
import { openCountryDb } from '../geo/country-db.ts'
import { AddressSet } from '../http/cidr.ts'
import { rulesUseCountry } from '../http/client-rules.ts'
import type { AccessLog } from '../log/access.ts'
import { type EventLog, silentEvents } from '../log/events.ts'
import type { Meter } from '../metrics/meter.ts'
import { buildAction } from '../route/actions/index.ts'
import { respond } from '../route/actions/respond.ts'
import { compileMatch, matchesAll } from '../route/match/index.ts'
import type { RouteConfig } from '../route/schema.ts'
import { type Route, RouteTable } from '../route/table.ts'
import type { InstanceGroup } from '../shared-state/group.ts'
import type { RedisConfig } from '../shared-state/redis/schema.ts'
import type { BalancerOptions, HashKeySource } from '../upstream/balancers/balancer.ts'
import { balancers } from '../upstream/balancers/index.ts'
import { Pool } from '../upstream/pool.ts'
import { RetryBudget } from '../upstream/retry-budget.ts'
import type { PoolConfig } from '../upstream/schema.ts'
import type { Server } from '../upstream/server.ts'
import type { BackendTlsSettings, ServerRegistry } from '../upstream/server-registry.ts'
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

function buildPool(name: string, config: PoolConfig, deps: PlanDeps, keep: Set<string>, redis?: RedisConfig): Pool {
  const { registry } = deps
  const settings = {
    connectTimeoutMs: config.timeouts.connect,
    keepAliveIdleMs: config.keepalive.idle,
    maxConnections: config.keepalive.max_connections,
    tls: config.tls && {
      ca: config.tls.ca,
      cert: config.tls.cert,
      key: config.tls.key,
      servername: config.tls.server_name,
      verify: config.tls.verify,
    },
    http2: config.protocol === 'h2',
  }
  const joining: Server[] = []
  let poolKnown = false
  const servers: Server[] = config.servers.map((entry) => {
    const { address, weight, max_conns, backup } =
      typeof entry === 'string' ? { address: entry, weight: 1, max_conns: 0, backup: false } : entry
    const { host, port } = splitAddress(address)!
    const origin = `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
    keep.add(`${name}/${origin}`)
    const known = registry.has(name, origin)
    poolKnown ||= known
    const state = registry.get(
      name,
      origin,
      host,
      port,
      settings.tls ? { ...settings, tls: serverTls(settings.tls, host, config) } : settings,
    )
    const server = { address, host, port, origin, weight, maxConns: max_conns, backup, state }
    if (!known) joining.push(server)
    return server
  })
  const random = deps.random ?? Math.random
  // Limits meant for the instance, split between the workers so that their sum holds (each worker
  // gets at least 1 of a limit above 0); `max_conns` is lent by the primary instead (cluster/slot-bank.ts).
  const { index, count } = deps.place ?? alone
  const split = (total: number) => workerShare(total, index, count, true)
  const options: BalancerOptions = {
    pool: name,
    hashKey: config.hash_key === undefined ? undefined : hashKeySource(config.hash_key),
    sticky: {
      cookie: config.sticky.cookie,
      secret: config.sticky.secret ?? deriveKey(deps.secret ?? startSecret, 'sticky cookie', 32),
      maxAgeS: config.sticky.max_age === undefined ? undefined : Math.ceil(config.sticky.max_age / 1000),
      table: config.balancer === 'sticky' && redis ? deps.group?.sticky(redis) : undefined,
    },
    fallback: undefined,
    random,
  }
  const fallback = config.balancer === 'sticky' ? balancers[config.sticky.fallback](servers, options) : undefined
  const balancer = balancers[config.balancer](servers, { ...options, fallback })
  const check = config.health_check
  return new Pool(
    name,
    servers,
    balancer,
    {
      hostHeader: config.host_header,
      timeouts: {
        connectMs: config.timeouts.connect,
        responseHeadersMs: config.timeouts.response_headers,
        bodyIdleMs: config.timeouts.body_idle,
      },
      retries: {
        attempts: config.retries.attempts,
        perTryMs: config.retries.per_try_timeout ?? config.timeouts.response_headers,
        budget: new RetryBudget(config.retries.budget, split(config.retries.budget_burst)),
      },
      maxInFlight: split(config.limits.max_in_flight),
      queueLength: split(config.limits.max_queued),
      queueTimeoutMs: config.limits.queue_timeout,
      retryAfterS: Math.ceil(config.limits.retry_after / 1000),
      slowStartMs: config.slow_start,
      // On the first Plan every server is new: only servers that join a running pool ramp up.
      joining: poolKnown ? joining : [],
      panicThreshold: config.panic_threshold,
      active: check && {
        intervalMs: check.interval,
        timeoutMs: check.timeout,
        rise: check.rise,
        fall: check.fall,
        http:
          check.type === 'tcp'
            ? undefined
            : {
                method: check.method,
                path: check.path,
                host: check.host,
                statuses: check.expect_status.map(statusRange),
                body: check.expect_body === undefined ? undefined : new RegExp(check.expect_body),
                maxBodyBytes: check.expect_body_bytes,
              },
      },
      unknownTakesTraffic: check?.unknown_takes_traffic ?? true,
      outlier: {
        consecutive: config.outlier.consecutive_failures,
        counts: new Set(config.outlier.failures),
        baseEjectionMs: config.outlier.base_ejection,
        maxEjectionMs: config.outlier.max_ejection,
        maxEjectedShare: config.outlier.max_ejected_share,
      },
    },
    {
      events: deps.events ?? silentEvents,
      forget: (s) => registry.remove(name, s.origin),
      shared: deps.shared,
      leases: deps.leases,
    },
  )
}

/** A server's TLS settings: the SNI name defaults to its host when that is a name, else to the pool's Host header. */
function serverTls(tls: BackendTlsSettings, host: string, config: PoolConfig): BackendTlsSettings {
  if (tls.servername !== undefined) return tls
  const name = isIP(host) === 0 ? host : config.host_header && hostName(config.host_header)
  return name ? { ...tls, servername: name } : tls
}

/** `"header:X-User"` → header `x-user`; cookie and query names keep their case, as they are compared. */
function hashKeySource(text: string): HashKeySource {
  const colon = text.indexOf(':')
  if (colon < 0) return { from: 'path', name: '' }
  const from = text.slice(0, colon) as HashKeySource['from']
  const name = text.slice(colon + 1)
  return { from, name: from === 'header' ? name.toLowerCase() : name }
}

/** `204` → [204, 204]; `"200-399"` → [200, 399]. */
function statusRange(range: number | string): [number, number] {
  const [lo, hi] = String(range).split('-').map(Number)
  return [lo!, hi ?? lo!]
}

/** The secret when the caller gives none: made once per process. */
const startSecret = loadSecret(undefined)

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
  const matchers = compileMatch(config.match)
  const action = buildAction(config, pools)
  const responsePhases = routePhaseFactories.flatMap((f) => f.response?.(config) ?? [])
  if (action.responsePhase) responsePhases.push(action.responsePhase)
  // The cache stores the backend's response as it came, before the other phases edit it for a client.
  const name = config.name ?? `route${index}`
  const cache = config.cache?.enabled
    ? new RouteCache(config.cache, name, shared, deps.group?.cache(plan.redis))
    : undefined
  if (cache) responsePhases.unshift(cache.responsePhase)
  return {
    name,
    action,
    maxBodyBytes: config.max_body_bytes,
    upgrades: new Set(config.upgrades.map((name) => name.toLowerCase())),
    requestPhases: [
      ...globalRequestPhases,
      ...routeGuardFactories.flatMap((f) => f.request?.(config) ?? []),
      // Before any phase that reads the body: a request over the limit costs as little as possible.
      ...rateLimits(config, name, plan.redis, deps),
      ...routePhaseFactories.flatMap((f) => f.request?.(config) ?? []),
    ],
    responsePhases,
    cache,
    matches: (x, path) => matchesAll(matchers, x, path),
  }
}
