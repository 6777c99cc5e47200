import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http'
import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { clientError } from '../answer/client-error.ts'
import { LiveList, ownServer } from '../engine/index.ts'
import { type ClientRequest, type ClientResponse, Exchange, upgradeExchange } from '../exchange.ts'
import { openCountryDb } from '../geo/country-db.ts'
import { ClientRules } from '../http/client-rules.ts'
import { declinedUpgrade, mayUpgrade } from '../http/upgrade.ts'
import { alone, type WorkerPlace, workerShare } from '../instance/worker-share.ts'
import { lazyBuiltin } from '../lazy-builtin.ts'
import type { EventLog } from '../log/events.ts'
import { handle, handleUpgrade } from '../pipeline.ts'
import type { ClientSettings, Plan } from '../plan/plan.ts'
import type { Acme } from '../tls/acme/manager.ts'
import { answerTlsAlpn } from '../tls/acme/tls-alpn.ts'
import { acceptH2c } from './accept-h2c.ts'
import { answerHttp01 } from './acme-http-01.ts'
import { arrivals } from './arrival.ts'
import { type ConnectionChain, installChain } from './chain.ts'
import { ConnectionGate, guardConnections } from './connection-gate.ts'
import { type GroupRate, groupRateLink } from './group-rate.ts'
import { h2Options } from './h2-options.ts'
import { createTlsServer } from './https.ts'
import { bind, countConnections, type Listener, listener, type Parts, watchSessions } from './listener.ts'
import { NodeDrain } from './node-drain.ts'
import { acceptProxyProtocol } from './proxy-protocol.ts'
import { redirectToHttps } from './redirect.ts'
import type { ListenerConfig } from './schema.ts'

export type { Listener }

/**
 * Opens a listener that serves each request with the Plan current at its arrival: plain HTTP/1.1
 * (and h2c with prior knowledge when enabled), or with a `tls` block HTTPS with HTTP/2 and
 * HTTP/1.1 by ALPN. `secret` is the instance's key, which TLS session ticket keys derive from.
 * `place` is this process's place among the workers, whose share of the connection limits it keeps.
 * `acme`, when the config obtains certificates, answers ACME challenges: HTTP-01 on plain listeners
 * before routes and redirects, TLS-ALPN-01 on TLS ones.
 */
export async function listenHttp(
  config: ListenerConfig,
  plan: () => Plan,
  events: EventLog,
  secret: Buffer,
  place: WorkerPlace = alone,
  acme?: Acme,
  groupRate?: GroupRate,
): Promise<Listener> {
  const initial = plan().client
  const http1Options = nodeHttp1Options(initial, plan)
  const tls = config.tls ? createTlsServer(config, events, http1Options, secret, acme) : undefined
  const server: HttpServer | HttpsServer | Http2SecureServer = tls?.server ?? createServer(http1Options)
  const http1 = server as HttpServer
  const h1 = ownServer(server, {
    maxHeaderBytes: initial.maxHeaderBytes,
    client: () => plan().client,
    onRequest: (req, res) => onRequest(req, res),
    checkMs: http1Options.connectionsCheckingInterval,
  })
  const parts: Parts = {
    config,
    plan,
    events,
    server,
    http1,
    h1,
    nodeDrain: new NodeDrain(
      http1,
      () => plan().client.drainIdleMs,
      () => plan().client.requestHeadersTimeoutMs,
    ),
    tls,
    acme,
    groupRate,
    gate: connectionGate(config, plan(), events, place),
    connections: new LiveList<Socket>(),
    sessions: new LiveList<Http2Session>(),
    status: { draining: false, retired: undefined },
    counts: { accepted: 0, tlsHandshakes: 0, tlsFailures: 0 },
  }
  // Node would refuse more than 2000 header lines whatever their size; max_header_bytes is the one limit.
  http1.maxHeadersCount = 0
  const apply = applier(parts)
  apply(initial)
  const h2c =
    !tls && config.http2.enabled === true ? lazyBuiltin('node:http2').createServer(h2Options(config.http2)) : undefined
  // Every connection passes the chain first: PROXY protocol → gate → group rate → ACME TLS-ALPN-01 → TLS or h2c → own server → node's.
  installChain(server, chainLinks(parts, h2c))
  const onRequest = serveRequests(parts)
  countConnections(parts)
  const h2Servers = h2c ? [h2c] : tls && config.http2.enabled !== false ? [server as Http2SecureServer] : []
  for (const h2 of h2Servers) watchSessions(parts, h2, onRequest)
  return listener(parts, await bind(parts), apply)
}

/**
 * The links of the listener's connection chain: every connection, before a request exists, passes
 * PROXY protocol → gate → group rate → ACME TLS-ALPN-01 → TLS and ALPN, or h2c → own HTTP/1.1 server → node's (chain.ts; the
 * chart in docs/ARCHITECTURE.md).
 */
function chainLinks(
  { config, plan, events, gate, groupRate, tls, h1, acme }: Parts,
  h2c: Http2Server | undefined,
): ConnectionChain {
  return {
    proxyProtocol: config.proxy_protocol
      ? acceptProxyProtocol(
          () => plan().trusted,
          () => plan().client.requestHeadersTimeoutMs,
        )
      : undefined,
    gate: gate ? guardConnections(gate) : undefined,
    groupRate:
      config.connections.group_rate && groupRate ? groupRateLink(config.address, groupRate, events) : undefined,
    acmeTlsAlpn: tls && acme && config.tls?.acme ? answerTlsAlpn(acme.board) : undefined,
    tls: tls !== undefined,
    h2c: h2c ? acceptH2c(h2c, () => plan().client.requestHeadersTimeoutMs) : undefined,
    own: h1.link,
  }
}

/** The function that applies a Plan's client settings, and the listener's reloaded certificates. */
function applier({ config, plan, tls, http1 }: Parts): (client: ClientSettings) => void {
  // This listener's place in the config, to find its settings in a reloaded one.
  const index = plan().config.listeners.indexOf(config)
  return (client) => {
    // A reload may change this listener's certificates; other listener settings need a restart.
    const reloaded = plan().config.listeners[index]
    if (tls && reloaded?.address === config.address && reloaded.tls) tls.certificates.update(reloaded.tls)
    http1.headersTimeout = client.requestHeadersTimeoutMs
    http1.requestTimeout = Math.max(client.requestTimeoutMs, client.requestHeadersTimeoutMs)
    http1.keepAliveTimeout = client.keepAliveIdleMs
  }
}

/** Hands every request, upgrade and CONNECT node's server and the own server read to the pipeline; returns the request listener. */
function serveRequests(parts: Parts): (req: ClientRequest, res: ClientResponse) => void {
  const { config, plan, server, http1, h1, status, nodeDrain, acme } = parts
  const secure = config.tls !== undefined
  const redirect = config.redirect_https
  const arrival = arrivals(config, status)
  // A response whose head went out before the drain began leaves its connection idle when it ends.
  const settled = () => {
    if (!status.draining) return
    http1.closeIdleConnections()
    h1.drain()
  }
  const onRequest = (req: ClientRequest, res: ClientResponse) => {
    // A request read after the drain closed its connection: its client sees the FIN, and retries.
    if (status.draining && nodeDrain.closing(req.socket as Socket)) return
    const current = plan()
    // The pipeline calls `settled` when the response closes; a redirect does not go through it.
    if (redirect) res.on('close', settled)
    const x = new Exchange(req, res, arrival(req, current))
    if (acme && !secure && answerHttp01(current, x, acme.board)) return
    // An `Upgrade` node's parser did not hand over: what was pipelined behind it is lost, so the connection ends.
    if (x.isHttp1() && declinedUpgrade(x.req)) x.res.shouldKeepAlive = false
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
    const x = upgradeExchange(req, arrival(req, current))
    if (redirect) redirectToHttps(current, x, redirect, socket)
    else handleUpgrade(current, x, head)
  }
  server.on('upgrade', upgrade)
  // CONNECT goes through the same guards, which answer it with 405: Portico opens no tunnels
  // on request. Without a listener, Node would drop the connection without a word.
  server.on('connect', upgrade)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => clientError(err, socket, plan().accessLog))
  server.on('error', (err) => parts.events.error('listener error', { address: config.address, error: err.message }))
  return onRequest
}

/** The options of node's HTTP/1.1 server (and of the TLS server's HTTP/1.1 side). */
function nodeHttp1Options(initial: ClientSettings, plan: () => Plan) {
  return {
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
