import { isIP } from 'node:net'
import { splitAddress } from '../config/common.ts'
import type { Config } from '../config/schema.ts'
import { hostName } from '../exchange.ts'
import { globalRequestPhases, routePhaseFactories } from '../filters/index.ts'
import { openCountryDb } from '../geo/country-db.ts'
import { AddressSet } from '../http/cidr.ts'
import type { AccessLog } from '../log/access.ts'
import { buildAction } from '../route/actions/index.ts'
import { respond } from '../route/actions/respond.ts'
import { compileMatch, matchesAll } from '../route/match/index.ts'
import type { RouteConfig } from '../route/schema.ts'
import { type Route, RouteTable } from '../route/table.ts'
import { balancers } from '../upstream/balancers/index.ts'
import { Pool } from '../upstream/pool.ts'
import type { PoolConfig } from '../upstream/schema.ts'
import type { Server } from '../upstream/server.ts'
import type { BackendTlsSettings, ServerRegistry } from '../upstream/server-registry.ts'
import type { Plan } from './plan.ts'

/** What building a Plan needs besides the config: live state that outlives Plans. */
export interface PlanDeps {
  readonly registry: ServerRegistry
  readonly accessLog: AccessLog
}

/** Builds an immutable Plan from a validated config. Servers the registry knows keep their state. */
export function buildPlan(config: Config, deps: PlanDeps): Plan {
  const pools = new Map<string, Pool>()
  const keep = new Set<string>()
  for (const [name, poolConfig] of Object.entries(config.pools)) {
    pools.set(name, buildPool(name, poolConfig, deps.registry, keep))
  }
  deps.registry.retain(keep)
  const routes = new RouteTable(
    config.routes.map((r, i) => buildRoute(r, i, pools)),
    respond(config.no_route, 'not_found'),
  )
  return {
    config,
    routes,
    pools,
    trusted: new AddressSet(config.trusted_proxies),
    geo: openCountryDb(config.geo.database),
    client: {
      maxHeaderBytes: config.limits.max_header_bytes,
      maxUriBytes: config.limits.max_uri_bytes,
      requestHeadersTimeoutMs: config.timeouts.request_headers,
      requestTimeoutMs: config.timeouts.request,
      keepAliveIdleMs: config.timeouts.keepalive_idle,
      websocketIdleMs: config.timeouts.websocket_idle,
    },
    accessLog: deps.accessLog,
    shutdownGraceMs: config.shutdown_grace,
  }
}

function buildPool(name: string, config: PoolConfig, registry: ServerRegistry, keep: Set<string>): Pool {
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
  const servers: Server[] = config.servers.map((entry) => {
    const { address, weight } = typeof entry === 'string' ? { address: entry, weight: 1 } : entry
    const { host, port } = splitAddress(address)!
    const origin = `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
    keep.add(`${name}/${origin}`)
    const state = registry.get(
      name,
      origin,
      settings.tls ? { ...settings, tls: serverTls(settings.tls, host, config) } : settings,
    )
    return { address, host, port, weight, state }
  })
  const timeouts = {
    connectMs: config.timeouts.connect,
    responseHeadersMs: config.timeouts.response_headers,
    bodyIdleMs: config.timeouts.body_idle,
  }
  return new Pool(name, servers, balancers[config.balancer](servers), config.host_header, timeouts)
}

/** A server's TLS settings: the SNI name defaults to its host when that is a name, else to the pool's Host header. */
function serverTls(tls: BackendTlsSettings, host: string, config: PoolConfig): BackendTlsSettings {
  if (tls.servername !== undefined) return tls
  const name = isIP(host) === 0 ? host : config.host_header && hostName(config.host_header)
  return name ? { ...tls, servername: name } : tls
}

function buildRoute(config: RouteConfig, index: number, pools: ReadonlyMap<string, Pool>): Route {
  const matchers = compileMatch(config.match)
  const action = buildAction(config, pools)
  const responsePhases = routePhaseFactories.flatMap((f) => f.response?.(config) ?? [])
  if (action.responsePhase) responsePhases.push(action.responsePhase)
  return {
    name: config.name ?? `route${index}`,
    action,
    maxBodyBytes: config.max_body_bytes,
    requestPhases: [...globalRequestPhases, ...routePhaseFactories.flatMap((f) => f.request?.(config) ?? [])],
    responsePhases,
    matches: (x, path) => matchesAll(matchers, x, path),
  }
}
