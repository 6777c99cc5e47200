import type { Config } from '../config/schema.ts'
import { type ClientRequest, type ClientResponse, Exchange } from '../exchange.ts'
import { RateStores } from '../filters/ratelimit/stores.ts'
import { clientAddress } from '../http/client-address.ts'
import { pathRules } from '../listen/arrival.ts'
import type { ListenerConfig } from '../listen/schema.ts'
import { openAccessLog } from '../log/access.ts'
import { normaliseTarget, pathOf } from '../route/routing-path.ts'
import type { Route } from '../route/table.ts'
import { ServerRegistry } from '../upstream/server-registry.ts'
import { splitAddress } from '../values/address.ts'
import { buildPlan } from './build.ts'
import type { Plan } from './plan.ts'

/** The request to explain: what `portico explain` and `POST /explain` take. */
export interface ExplainRequest {
  readonly method: string
  /** An absolute URL: its scheme and port choose the listener, its host and path the route. */
  readonly url: string
  /** Request header fields; `host` defaults to the URL's authority. */
  readonly headers?: Readonly<Record<string, string>>
  /** The client's address. Default 127.0.0.1. */
  readonly from?: string
}

/** A route that did not take the request, and the first of its conditions that did not hold. */
export interface PassedRoute {
  readonly index: number
  readonly name: string
  readonly failed: { readonly condition: string; readonly expected: unknown }
}

/** Which way a request would take through a config, step by step. */
export interface Explanation {
  readonly request: { method: string; url: string; client: string; country: string }
  /** The listener that would accept it: the first whose port and TLS agree with the URL, else the first of the same scheme. */
  readonly listener: { index: number; address: string; tls: boolean; port_matches: boolean } | null
  /** The path routes are tested on, normalised as the listener does; null when it refuses the path (400). */
  readonly path: string | null
  /** Each route before the one that takes the request, with the condition that failed it. */
  readonly passed: PassedRoute[]
  readonly route: { index: number; name: string } | null
  /** The request phases the route runs, in order, by their config keys. */
  readonly phases: string[]
  readonly cache: boolean
  /** `pool`, `split`, `redirect`, `respond`, `static`, or `no_route` when no route takes it. */
  readonly action: string
  readonly pool: string | null
  /** The server the balancer would choose now, all servers taken as healthy; null when none is usable. */
  readonly server: string | null
  /** The target the server would receive, after the route's rewrite. */
  readonly backend_path: string | null
}

/**
 * Explains how `config` would handle `request`, with a Plan built from it as a reload would, the
 * very route table and matchers included, and thrown away after: nothing is sent anywhere.
 */
export async function explain(config: Config, request: ExplainRequest): Promise<Explanation> {
  const registry = new ServerRegistry()
  // Rate limits count in stores of their own, closed after; caches are left out (a disk cache
  // would be scanned), and `cache` is read from the config instead.
  const rates = new RateStores()
  const uncached = { ...config, routes: config.routes.map((r) => (r.cache ? { ...r, cache: undefined } : r)) }
  const accessLog = openAccessLog({ output: 'off', format: 'json' })
  const plan = buildPlan(uncached, { registry, accessLog, rates })
  try {
    return explainWith({ ...plan, config }, request)
  } finally {
    for (const pool of plan.pools.values()) pool.stop()
    rates.close()
    await registry.close()
  }
}

/** Explains `request` against `plan`; throws a TypeError when the URL is not absolute. */
export function explainWith(plan: Plan, request: ExplainRequest): Explanation {
  const url = new URL(request.url)
  const secure = url.protocol === 'https:'
  const port = Number(url.port || (secure ? 443 : 80))
  const listener = chooseListener(plan.config.listeners, secure, port)
  const listenerConfig = listener && plan.config.listeners[listener.index]!
  const from = request.from ?? '127.0.0.1'
  const headers: Record<string, string> = { host: url.host }
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value
  const req = {
    method: request.method.toUpperCase(),
    url: `${url.pathname}${url.search}`,
    headers,
    rawHeaders: Object.entries(headers).flat(),
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    httpVersion: '1.1',
    socket: { remoteAddress: from, remotePort: 0 },
  } as unknown as ClientRequest
  const trusted = plan.trusted.has(from)
  const x = new Exchange(req, {} as ClientResponse, {
    secure,
    trusted,
    listener: { draining: false },
    paths: pathRules((listenerConfig ?? plan.config.listeners[0]!).paths),
    underscoresInHeaders: listenerConfig?.underscores_in_headers ?? false,
  })
  if (trusted) x.clientAddress = clientAddress(x.req.headers, x.peerAddress, plan.trusted)
  if (plan.geo) x.country = plan.geo.country(x.clientAddress)
  const base = {
    request: { method: req.method!, url: request.url, client: x.clientAddress, country: x.country },
    listener,
  }
  const target = normaliseTarget(x.path, x.paths)
  if (target === undefined) return { ...base, ...nowhere('bad_request'), path: null, passed: [] }
  x.path = target
  const path = pathOf(target)
  const passed: PassedRoute[] = []
  const routes = plan.routes.routes
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!
    const failed = firstFailed(route, x, path)
    x.captures = undefined
    if (failed) {
      passed.push({ index: i, name: route.name, failed })
      continue
    }
    return { ...base, path, passed, ...taken(plan, route, i, x) }
  }
  return { ...base, path, passed, ...nowhere('no_route') }
}

function nowhere(action: string) {
  return { route: null, phases: [], cache: false, action, pool: null, server: null, backend_path: null }
}

/** The first condition of `route` that does not hold, or undefined when all do. */
function firstFailed(route: Route, x: Exchange, path: string): PassedRoute['failed'] | undefined {
  for (const c of route.conditions) if (!c.matcher.test(x, path)) return { condition: c.key, expected: c.expected }
  return undefined
}

/** What the route that takes the request does with it: its phases, action, pool and server. */
function taken(plan: Plan, route: Route, index: number, x: Exchange) {
  const config = plan.config.routes[index]!
  const action = (['pool', 'split', 'redirect', 'respond', 'static'] as const).find((k) => config[k] !== undefined)!
  const common = {
    route: { index, name: route.name },
    phases: [...route.requestPhaseNames],
    cache: Boolean(route.cache) || config.cache?.enabled === true,
  }
  // Only forwarding actions are run: the others would answer the exchange.
  if (action !== 'pool' && action !== 'split')
    return { ...common, action, pool: null, server: null, backend_path: null }
  x.route = route
  const pool = route.action.run(x)!
  const server = pool.pick(x, undefined)
  return { ...common, action, pool: pool.name, server: server?.address ?? null, backend_path: x.path }
}

/** The listener for a URL: same port and scheme, else the first of the same scheme (a listener on port 0 has any). */
function chooseListener(listeners: readonly ListenerConfig[], secure: boolean, port: number): Explanation['listener'] {
  let fallback: Explanation['listener'] = null
  for (let i = 0; i < listeners.length; i++) {
    const l = listeners[i]!
    if (Boolean(l.tls) !== secure) continue
    const own = splitAddress(l.address)?.port
    if (own === port) return { index: i, address: l.address, tls: secure, port_matches: true }
    fallback ??= { index: i, address: l.address, tls: secure, port_matches: false }
  }
  return fallback
}
