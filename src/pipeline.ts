import { ServerResponse } from 'node:http'
import type { Duplex, Readable } from 'node:stream'
import { isClosing } from './answer/closing.ts'
import { respondError } from './answer/respond.ts'
import { ignore, ProxyError } from './errors.ts'
import type { Exchange, UpgradeExchange } from './exchange.ts'
import { BodyLimit } from './filters/limits/body-limit.ts'
import { clientAddress } from './http/client-address.ts'
import { bodyStream, hasBody } from './http/has-body.ts'
import { hostName } from './http/host-name.ts'
import { dropUnderscoreFields } from './http/underscore-fields.ts'
import { upgradeOffer } from './http/upgrade.ts'
import { validHost } from './http/valid-host.ts'
import { servedVersion } from './http/version.ts'
import type { Plan } from './plan/plan.ts'
import { normaliseTarget } from './route/routing-path.ts'
import type { Route } from './route/table.ts'
import { forward } from './upstream/forward.ts'
import { tunnel } from './upstream/websocket.ts'

/**
 * Runs one exchange through the phases, in the order of the chart in docs/ARCHITECTURE.md:
 * guards → route → request phases → forward. The access log line is written when the response
 * closes, whatever happened; `closed`, when given, is called then too.
 */
export function handle(plan: Plan, x: Exchange, closed?: () => void): void {
  // 'close' comes once per response: `on` spares the wrapper `once` would make per request, and
  // one listener for both the log and the caller's `closed` spares node an array of listeners.
  // Over HTTP/2 that is the stream's own 'close'. A stream the client resets mid-upload cancels the
  // exchange before its body fails (engine/h2/request.ts): the backend's stream is then reset with CANCEL.
  x.res.on('close', () => finish(plan, x, closed))
  const route = admit(plan, x)
  if (route) runRequestPhases(plan, x, route, 0, act)
}

/**
 * Runs an `Upgrade` request (WebSocket) through the same guards, route and phases, then tunnels it
 * when the route allows a protocol it asks for; otherwise it is forwarded as an ordinary request.
 * Its response object writes straight to the socket until a tunnel takes the socket over. The
 * connection ends with any answer that is not a tunnel's 101: node's parser has let go of it, so
 * nothing more the client sends can be read as a request. The exchange is logged once.
 */
export function handleUpgrade(plan: Plan, x: UpgradeExchange, head: Buffer): void {
  const socket = x.req.socket
  const res = x.res
  res.assignSocket(socket)
  res.shouldKeepAlive = false
  let logged = false
  const log = () => {
    if (logged) return
    logged = true
    plan.meter?.record(x)
    plan.accessLog.write(x)
  }
  res.once('finish', () => {
    endConnection(socket)
    log()
  })
  // The client left before the answer was written (a tunnel, once open, detaches the response).
  res.once('close', () => {
    if (!res.writableFinished) {
      if (x.outcome === 'ok') x.outcome = 'client_aborted'
      x.cancel()
    }
    log()
  })
  const route = admit(plan, x)
  if (!route) return
  runRequestPhases(plan, x, route, 0, () => {
    const pool = route.action.run(x)
    if (!pool) return
    const offer = upgradeOffer(x.req.headers.upgrade, route.upgrades)
    if (offer !== undefined) tunnel(x, pool, head, offer, plan.client.websocketIdleMs, log)
    // A protocol this route does not allow: the `Upgrade` is ignored (RFC 9110 §7.8), and the
    // request, which has no body, goes on without it as hop-by-hop.
    else forward(x, pool, null)
  })
}

/**
 * Closes a connection after the answer to an upgrade request: ends it, drops what the client sends
 * meanwhile (never read as a request), and frees it once the end is flushed.
 */
function endConnection(socket: Duplex): void {
  socket.on('data', ignore)
  socket.resume()
  if (socket.writableFinished) socket.destroy()
  else {
    socket.once('finish', () => socket.destroy())
    socket.end()
  }
}

type Next = (plan: Plan, x: Exchange, route: Route) => void

/** The route's cache, when it has one, then its action. */
const act: Next = (_plan, x, route) => {
  if (route.cache) route.cache.run(x, () => send(x, route))
  else send(x, route)
}

/** The route's action: forward to the pool it gives, or nothing more when it answered itself. */
function send(x: Exchange, route: Route): void {
  const pool = route.action.run(x)
  if (pool) forward(x, pool, x.body ? x.body.open() : requestBody(x, route.maxBodyBytes))
}

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
    if (verdict === null) return
    if (typeof verdict === 'string') {
      respondError(x, verdict)
      return
    }
    verdict.then(
      (v) => (v === undefined ? runRequestPhases(plan, x, route, i + 1, next) : v !== null && respondError(x, v)),
      (err) => respondError(x, err instanceof ProxyError ? err.code : 'proxy_error'),
    )
    return
  }
  next(plan, x, route)
}

/** Guards and routing; returns the route, or undefined when the exchange was answered. */
function admit(plan: Plan, x: Exchange): Route | undefined {
  // Read on a connection whose last answer is under way (pipelined behind a 400): never served.
  if (isClosing(x.req.socket)) return undefined
  if (x.req.method === 'CONNECT') return void respondError(x, 'method_not_allowed', { allow: allowed })
  if (!servedVersion(x.req)) return void respondError(x, 'bad_request')
  if (x.path.length > plan.client.maxUriBytes) return void respondError(x, 'uri_too_long')
  if (!toOriginForm(x)) return void respondError(x, 'bad_request')
  // Routes match, and the backend receives, one normalised path (docs/routing.md).
  const target = normaliseTarget(x.path, x.paths)
  if (target === undefined) return void respondError(x, 'bad_request')
  x.path = target
  if (!validHost(x.req.rawHeaders, x.authority)) return void respondError(x, 'bad_request')
  if (!x.underscoresInHeaders) dropUnderscoreFields(x.req)

  // Who the client is, before any route looks: behind trusted proxies, what they say it is.
  if (x.trusted) x.clientAddress = clientAddress(x.req.headers, x.peerAddress, plan.trusted)
  if (plan.geo) x.country = plan.geo.country(x.clientAddress)
  const route = plan.routes.match(x)
  if (!route) return void plan.routes.unmatched.run(x)
  x.route = route
  return route
}

const allowed = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/**
 * The body stream to send on, or null when the request has none. It streams with backpressure:
 * the backend connection reads it only as fast as the backend takes it. A client waiting on
 * `Expect: 100-continue` is told to go on here, after every check passed: Portico answers 100
 * itself, and the backend gets the body without the `Expect` header.
 */
function requestBody(x: Exchange, maxBytes: number): Readable | null {
  if (!hasBody(x)) return null
  const h = x.req.headers
  const length = h['content-length']
  const chunked = length === undefined || h['transfer-encoding'] !== undefined
  // Any other expectation was answered 417 before the exchange, and HTTP/1.0 has no 100 (RFC 9110 §10.1.1).
  if (h.expect !== undefined) {
    if (x.isHttp2()) x.res.writeContinue()
    else if (x.req.httpVersion === '1.1' && x.res instanceof ServerResponse) x.res.writeContinue()
  }
  if (chunked) {
    const limited = new BodyLimit(x, maxBytes)
    bodyStream(x).pipe(limited)
    return limited
  }
  x.bytesIn = Number(length)
  return bodyStream(x)
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

function finish(plan: Plan, x: Exchange, closed: (() => void) | undefined): void {
  if (!completed(x)) {
    if (x.outcome === 'ok') x.outcome = 'client_aborted'
    x.cancel()
  }
  closed?.()
  plan.meter?.record(x)
  plan.accessLog.write(x)
}

/**
 * Whether the whole response reached the client's connection. An HTTP/2 stream the client reset
 * may have finished its writes too, so there the stream's reset code decides.
 */
function completed(x: Exchange): boolean {
  return x.h2 ? x.h2.rstCode === 0 : x.res.writableFinished
}
