import type { Readable } from 'node:stream'
import { ProxyError } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { hostName } from './exchange.ts'
import { BodyLimit } from './filters/body-limit.ts'
import type { Plan } from './plan/plan.ts'
import { respondError } from './respond.ts'
import type { Route } from './route/table.ts'
import { forward } from './upstream/forward.ts'
import { type TunnelSet, tunnel } from './upstream/websocket.ts'

/**
 * Runs one exchange through the phases, in the order of the chart in docs/ARCHITECTURE.md:
 * guards → route → request phases → forward. The access log line is written when the response
 * closes, whatever happened.
 */
export function handle(plan: Plan, x: Exchange): void {
  x.res.once('close', () => finish(plan, x))
  // A client that goes away mid-upload errors its request stream; the exchange is aborted on close.
  x.req.on('error', ignore)
  const route = admit(plan, x)
  if (route) runRequestPhases(plan, x, route, 0, forwardTo)
}

/**
 * Runs an `Upgrade` request (WebSocket) through the same guards, route and phases, then tunnels it.
 * Its response object writes straight to the socket until the tunnel takes the socket over.
 */
export function handleUpgrade(plan: Plan, x: Exchange, head: Buffer, tunnels: TunnelSet): void {
  const socket = x.req.socket
  x.res.assignSocket(socket)
  x.res.shouldKeepAlive = false
  // Answered locally (404, 403, …): close once the answer is written.
  x.res.once('finish', () => {
    if (x.status === 101) return
    socket.end()
    plan.accessLog.write(x)
  })
  const route = admit(plan, x)
  if (!route) return
  runRequestPhases(plan, x, route, 0, () =>
    tunnel(x, route.pool, head, plan.client.websocketIdleMs, tunnels, () => plan.accessLog.write(x)),
  )
}

type Next = (plan: Plan, x: Exchange, route: Route) => void

const forwardTo: Next = (_plan, x, route) =>
  forward(x, route.pool, x.body ? x.body.open() : requestBody(x, route.maxBodyBytes))

/**
 * Runs the route's request phases from `from` on, then `next`. A phase that ends the exchange stops
 * the run; one that returns a promise resumes it when the promise settles, so synchronous phases
 * cost no await.
 */
function runRequestPhases(plan: Plan, x: Exchange, route: Route, from: number, next: Next): void {
  const phases = route.requestPhases
  for (let i = from; i < phases.length; i++) {
    const verdict = phases[i]!.onRequest(x, plan)
    if (verdict === undefined) continue
    if (typeof verdict === 'string') {
      respondError(x, verdict)
      return
    }
    verdict.then(
      (v) => (v === undefined ? runRequestPhases(plan, x, route, i + 1, next) : respondError(x, v)),
      (err) => respondError(x, err instanceof ProxyError ? err.code : 'proxy_error'),
    )
    return
  }
  next(plan, x, route)
}

/** Guards and routing; returns the route, or undefined when the exchange was answered. */
function admit(plan: Plan, x: Exchange): Route | undefined {
  if (x.req.method === 'CONNECT') return void respondError(x, 'method_not_allowed', { allow: allowed })
  if (x.path.length > plan.client.maxUriBytes) return void respondError(x, 'uri_too_long')
  if (!toOriginForm(x)) return void respondError(x, 'bad_request')

  const route = plan.routes.match(x)
  if (!route) return void respondError(x, 'not_found')
  x.route = route
  return route
}

const allowed = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/** The body stream to send on, or null when the request has none. */
function requestBody(x: Exchange, maxBytes: number): Readable | null {
  const h = x.req.headers
  if (h['transfer-encoding'] !== undefined) {
    const limited = new BodyLimit(x, maxBytes)
    x.req.pipe(limited)
    return limited
  }
  const length = h['content-length']
  if (length === undefined || length === '0') return null
  x.bytesIn = Number(length)
  return x.req
}

/**
 * Rewrites an absolute-form target (`GET http://host/path`) to origin form and takes its authority
 * as the Host (RFC 9112 §3.2.2). Routing then uses that host, so an absolute URL can only reach a
 * configured route: Portico is never an open proxy. Returns false for a target it cannot serve.
 */
function toOriginForm(x: Exchange): boolean {
  const target = x.path
  if (target.charCodeAt(0) === 47) return true
  const m = /^https?:\/\/([^/?#]+)([^#]*)/i.exec(target)
  if (!m) return false
  x.authority = m[1]!
  x.host = hostName(m[1]!)
  x.path = m[2] === '' ? '/' : m[2]!.startsWith('/') ? m[2]! : `/${m[2]}`
  return true
}

function finish(plan: Plan, x: Exchange): void {
  if (!x.res.writableFinished) {
    if (x.outcome === 'ok') x.outcome = 'client_aborted'
    x.abort.abort()
  }
  plan.accessLog.write(x)
}

function ignore(): void {}
