import { once } from 'node:events'
import { createServer, type Server as HttpServer, type IncomingMessage, ServerResponse } from 'node:http'
import type { Http2SecureServer, Http2Session } from 'node:http2'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { reusePort } from '../cluster/reuse-port.ts'
import { alone, type WorkerPlace, workerShare } from '../cluster/worker-share.ts'
import { splitAddress } from '../config/address.ts'
import { type Arrival, type ClientRequest, type ClientResponse, Exchange } from '../exchange.ts'
import { openCountryDb } from '../geo/country-db.ts'
import { clientError } from '../http/client-error.ts'
import { ClientRules } from '../http/client-rules.ts'
import { declinedUpgrade, mayUpgrade } from '../http/upgrade.ts'
import { lazyBuiltin } from '../lazy-builtin.ts'
import { LiveList } from '../live-list.ts'
import type { EventLog } from '../log/events.ts'
import { handle, handleUpgrade } from '../pipeline.ts'
import type { ClientSettings, Plan } from '../plan/plan.ts'
import type { PathRules } from '../route/routing-path.ts'
import { tlsFacts } from '../tls/facts.ts'
import { acceptH2c } from './accept-h2c.ts'
import { ConnectionGate, guardConnections } from './connection-gate.ts'
import { type GroupRate, guardGroupRate } from './group-rate.ts'
import { H1Server } from './h1/server.ts'
import { h2Options } from './h2-options.ts'
import { createTlsServer } from './https.ts'
import { acceptProxyProtocol, proxiedPeer } from './proxy-protocol.ts'
import { redirectToHttps } from './redirect.ts'
import { ResetGuard } from './reset-guard.ts'
import type { ListenerConfig, PathsConfig } from './schema.ts'

/** A bound listener for client traffic. */
export interface Listener {
  /** `http://host:port` or `https://host:port` as bound (port 0 resolved). */
  readonly url: string
  /** Applies the client timeouts of a new Plan to this listener. */
  apply(client: ClientSettings): void
  /**
   * Makes every connection open now end at a response boundary, so that its client reconnects and
   * the kernel spreads the new connections over the workers again: the next HTTP/1.1 response on
   * each says `Connection: close` (or the one under way, if its head is not out yet), and HTTP/2
   * clients get GOAWAY. Connections that stay idle stay open.
   */
  rebalance(): void
  /**
   * Stops accepting, lets exchanges in flight finish within `graceMs`, closes idle keep-alive
   * connections (and sends HTTP/2 clients GOAWAY) at once and every connection when the grace
   * period ends.
   */
  close(graceMs: number): Promise<void>
  /** What the listener counted since it opened, for metrics. */
  readonly counts: ListenerCounts
}

/** A listener's connection counts. */
export interface ListenerCounts {
  /** Client connections accepted. */
  readonly accepted: number
  /** Client connections open now. */
  readonly open: number
  /** TLS handshakes that completed, and that failed. */
  readonly tlsHandshakes: number
  readonly tlsFailures: number
}

/**
 * Opens a listener that serves each request with the Plan current at its arrival: plain HTTP/1.1
 * (and h2c with prior knowledge when enabled), or with a `tls` block HTTPS with HTTP/2 and
 * HTTP/1.1 by ALPN. `secret` is the instance's key, which TLS session ticket keys derive from.
 * `place` is this process's place among the workers, whose share of the connection limits it keeps.
 */
export async function listenHttp(
  config: ListenerConfig,
  plan: () => Plan,
  events: EventLog,
  secret: Buffer,
  place: WorkerPlace = alone,
  groupRate?: GroupRate,
): Promise<Listener> {
  const address = config.address
  // This listener's place in the config, to find its settings in a reloaded one.
  const index = plan().config.listeners.indexOf(config)
  const { host, port } = splitAddress(address)!
  const initial = plan().client
  const connections = new LiveList<Socket>()
  const sessions = new LiveList<Http2Session>()
  // Shared by every exchange of this listener: they read `draining` as they write their heads.
  const status: { draining: boolean; retired: WeakSet<object> | undefined } = { draining: false, retired: undefined }
  const http1Options = {
    maxHeaderSize: initial.maxHeaderBytes,
    // Never the lenient parser: it lets smuggled requests through (RFC 9112 §6.3).
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
    // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): its stream
    // starts ended, which spares each such request the stream's end, dump and close machinery.
    optimizeEmptyRequests: true,
    // Timeouts are enforced by a periodic sweep; a short period keeps them close to their settings.
    connectionsCheckingInterval: Math.min(1000, initial.requestHeadersTimeoutMs),
    // Only an upgrade some route may tunnel leaves node's parser; any other is read as a request.
    shouldUpgradeCallback: (req: IncomingMessage) => plan().routes.routes.some((r) => mayUpgrade(req, r.upgrades)),
  }
  const tls = config.tls ? createTlsServer(config, events, http1Options, secret) : undefined
  // The server that takes HTTP/1.1 connections; with TLS, the same one also takes HTTP/2.
  const server: HttpServer | HttpsServer | Http2SecureServer = tls?.server ?? createServer(http1Options)
  // Portico's own server reads HTTP/1.1 requests first and gives node's server what it does not serve.
  const h1 = new H1Server(server, {
    maxHeaderBytes: initial.maxHeaderBytes,
    client: () => plan().client,
    onRequest: (req, res) => onRequest(req, res),
    checkMs: http1Options.connectionsCheckingInterval,
    event: tls ? 'secureConnection' : 'connection',
  })
  const h2c =
    !tls && config.http2.enabled === true ? lazyBuiltin('node:http2').createServer(h2Options(config.http2)) : undefined
  if (h2c) acceptH2c(server as HttpServer, h2c, () => plan().client.requestHeadersTimeoutMs)
  const h2Servers = h2c ? [h2c] : tls && config.http2.enabled !== false ? [server as Http2SecureServer] : []
  // Node would refuse more than 2000 header lines whatever their size; max_header_bytes is the one limit.
  ;(server as HttpServer).maxHeadersCount = 0

  const apply = (client: ClientSettings) => {
    // A reload may change this listener's certificates; other listener settings need a restart.
    const reloaded = plan().config.listeners[index]
    if (tls && reloaded?.address === address && reloaded.tls) tls.certificates.update(reloaded.tls)
    const h1 = server as HttpServer
    h1.headersTimeout = client.requestHeadersTimeoutMs
    h1.requestTimeout = Math.max(client.requestTimeoutMs, client.requestHeadersTimeoutMs)
    h1.keepAliveTimeout = client.keepAliveIdleMs
  }
  apply(initial)
  const gate = connectionGate(config, plan(), events, place)
  // Wrapped first, so that it runs last: after the gate, on the address a PROXY header names.
  if (config.connections.group_rate && groupRate) guardGroupRate(server, address, groupRate, events)
  // Before the PROXY protocol reader wraps it, so that the gate sees the address the header names.
  if (gate) guardConnections(server, gate)
  const proxyProtocol = config.proxy_protocol
  if (proxyProtocol) {
    acceptProxyProtocol(
      server as HttpServer,
      () => plan().trusted,
      () => plan().client.requestHeadersTimeoutMs,
    )
  }

  const secure = tls !== undefined
  const hsts = config.tls?.hsts ? hstsValue(config.tls.hsts) : undefined
  const redirect = config.redirect_https
  // A plain connection without PROXY protocol has nothing of its own to say: one of two shared arrivals.
  const plain = !secure && !proxyProtocol
  const paths = pathRules(config.paths)
  const underscoresInHeaders = config.underscores_in_headers
  const fromTrusted: Arrival = { secure, trusted: true, listener: status, paths, underscoresInHeaders }
  const fromUntrusted: Arrival = { secure, trusted: false, listener: status, paths, underscoresInHeaders }
  const arrival = (req: ClientRequest, current: Plan): Arrival => {
    if (plain) return current.trusted.has(req.socket.remoteAddress ?? '') ? fromTrusted : fromUntrusted
    const peer = proxyProtocol ? proxiedPeer(req.socket) : undefined
    return {
      secure,
      trusted: current.trusted.has(peer?.address ?? req.socket.remoteAddress ?? ''),
      peer,
      tls: secure ? tlsFacts(req.socket as TLSSocket) : undefined,
      hsts,
      listener: status,
      paths,
      underscoresInHeaders,
    }
  }
  // A response whose head went out before the drain began leaves its connection idle when it ends.
  const settled = () => {
    if (!status.draining) return
    ;(server as HttpServer).closeIdleConnections()
    h1.drain()
  }
  const guard = new ResetGuard(config.http2.max_reset_burst, config.http2.max_resets_per_second, events)
  const onRequest = (req: ClientRequest, res: ClientResponse) => {
    const current = plan()
    // An `Upgrade` node's parser did not hand over: what was pipelined behind it is lost, so the connection ends.
    if (req.httpVersionMajor === 1 && declinedUpgrade(req as IncomingMessage))
      (res as ServerResponse).shouldKeepAlive = false
    // The pipeline calls `settled` when the response closes; a redirect does not go through it.
    if (redirect) res.on('close', settled)
    const x = new Exchange(req, res, arrival(req, current))
    // HTTP/2 requests are served at once: deferring them to the next turn, so that a stream reset in
    // the same read never starts, lost request body bytes now and then (the protocol matrix showed it).
    if (redirect) redirectToHttps(current, x, redirect)
    else handle(current, x, settled)
  }
  server.on('request', onRequest)
  // `Expect: 100-continue`: the pipeline sends 100 once the request has passed its checks, so a
  // request refused early (413, 404, …) never has its body sent.
  server.on('checkContinue', onRequest)
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const current = plan()
    const x = new Exchange(req, new ServerResponse(req), arrival(req, current))
    if (redirect) redirectToHttps(current, x, redirect, socket)
    else handleUpgrade(current, x, head)
  }
  server.on('upgrade', upgrade)
  // CONNECT goes through the same guards, which answer it with 405: Portico opens no tunnels
  // on request. Without a listener, Node would drop the connection without a word.
  server.on('connect', upgrade)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => clientError(err, socket, plan().accessLog))
  server.on('error', (err) => events.error('listener error', { address, error: err.message }))
  const counts = { accepted: 0, tlsHandshakes: 0, tlsFailures: 0 }
  if (tls) {
    server.on('secureConnection', () => counts.tlsHandshakes++)
    server.on('tlsClientError', () => counts.tlsFailures++)
  }
  server.on('connection', (socket: Socket) => {
    counts.accepted++
    const entry = connections.add(socket)
    socket.once('close', () => connections.remove(entry))
  })
  for (const h2 of h2Servers) {
    if (h2 === h2c) h2c.on('request', onRequest)
    h2.setTimeout(config.http2.idle_timeout)
    h2.on('session', (session: Http2Session) => {
      const entry = sessions.add(session)
      session.once('close', () => sessions.remove(entry))
      guard.watch(session)
      if (status.draining) session.close()
    })
  }

  server.listen({ host, port, reusePort })
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))])
  } catch (err) {
    tls?.certificates.close()
    gate?.close()
    throw err
  }
  const bound = server.address() as AddressInfo
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address

  return {
    url: `${secure ? 'https' : 'http'}://${urlHost}:${bound.port}`,
    apply,
    counts: {
      get accepted() {
        return counts.accepted
      },
      get open() {
        return connections.size
      },
      get tlsHandshakes() {
        return counts.tlsHandshakes
      },
      get tlsFailures() {
        return counts.tlsFailures
      },
    },
    rebalance() {
      const retired = (status.retired ??= new WeakSet())
      for (const socket of connections.values()) retired.add(socket)
      h1.retire()
      for (const session of sessions.values()) session.close()
    },
    async close(graceMs) {
      status.draining = true
      tls?.certificates.close()
      gate?.close()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Connections busy now end after their response: with `Connection: close` if its head is not
      // out yet (writeResponseHead), else as soon as they fall idle (`settled`).
      ;(server as HttpServer).closeIdleConnections()
      h1.drain()
      // HTTP/2 clients get GOAWAY: streams in flight finish, new ones go elsewhere.
      for (const session of sessions.values()) session.close()
      // WebSocket tunnels are open connections too: they get the grace period, then close.
      const timer = setTimeout(() => {
        for (const session of sessions.values()) session.destroy()
        for (const socket of connections.values()) socket.destroy()
      }, graceMs)
      await closed
      clearTimeout(timer)
      h1.stop()
    },
  }
}

/** The listener's connection gate, or undefined when it has no limits and no client lists. */
function connectionGate(config: ListenerConfig, plan: Plan, events: EventLog, place: WorkerPlace) {
  const c = config.connections
  const share = (total: number) => (total === 0 ? 0 : workerShare(total, place.index, place.count, true))
  const limits = {
    max: share(c.max),
    maxPerClient: share(c.max_per_client),
    newPerSecondPerClient: share(c.new_per_second_per_client),
  }
  const rules = config.clients ? new ClientRules(config.clients) : undefined
  if (!rules && limits.max + limits.maxPerClient + limits.newPerSecondPerClient === 0) return undefined
  const geo = rules?.needsCountry ? openCountryDb(plan.config.geo.database) : undefined
  return new ConnectionGate(limits, rules, geo, events, config.address)
}

function pathRules(paths: PathsConfig): PathRules {
  return {
    escapedSlashes: paths.escaped_slashes,
    parameters: paths.parameters,
    ignoreCase: paths.case_insensitive,
  }
}

function hstsValue(hsts: NonNullable<NonNullable<ListenerConfig['tls']>['hsts']>): string {
  return `max-age=${hsts.max_age}${hsts.include_subdomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`
}
