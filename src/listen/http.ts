import { once } from 'node:events'
import { createServer, type Server as HttpServer, type IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { splitAddress } from '../config/common.ts'
import { Exchange } from '../exchange.ts'
import { clientError } from '../http/client-error.ts'
import type { EventLog } from '../log/events.ts'
import { handle, handleUpgrade } from '../pipeline.ts'
import type { ClientSettings, Plan } from '../plan/plan.ts'
import { acceptProxyProtocol, proxiedPeer } from './proxy-protocol.ts'

/** A bound listener for client traffic. */
export interface Listener {
  /** `http://host:port` as bound (port 0 resolved). */
  readonly url: string
  /** Applies the client timeouts of a new Plan to this listener. */
  apply(client: ClientSettings): void
  /**
   * Stops accepting, lets exchanges in flight finish within `graceMs`, closes idle keep-alive
   * connections at once and every connection when the grace period ends.
   */
  close(graceMs: number): Promise<void>
}

/** Opens an HTTP/1.1 listener on `address` that serves each request with the Plan current at its arrival. */
export async function listenHttp(
  address: string,
  plan: () => Plan,
  events: EventLog,
  proxyProtocol = false,
): Promise<Listener> {
  const { host, port } = splitAddress(address)!
  const initial = plan().client
  const tunnels = new Set<Duplex>()
  let draining = false
  const server: HttpServer = createServer({
    maxHeaderSize: initial.maxHeaderBytes,
    // Never the lenient parser: it lets smuggled requests through (RFC 9112 §6.3).
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
    // Timeouts are enforced by a periodic sweep; a short period keeps them close to their settings.
    connectionsCheckingInterval: Math.min(1000, initial.requestHeadersTimeoutMs),
  })
  // Node would refuse more than 2000 header lines whatever their size; max_header_bytes is the one limit.
  server.maxHeadersCount = 0
  const apply = (client: ClientSettings) => {
    server.headersTimeout = client.requestHeadersTimeoutMs
    server.requestTimeout = Math.max(client.requestTimeoutMs, client.requestHeadersTimeoutMs)
    server.keepAliveTimeout = client.keepAliveIdleMs
  }
  apply(initial)
  if (proxyProtocol)
    acceptProxyProtocol(
      server,
      () => plan().trusted,
      () => plan().client.requestHeadersTimeoutMs,
    )

  const arrival = (req: IncomingMessage, current: Plan) => {
    const peer = proxyProtocol ? proxiedPeer(req.socket) : undefined
    return { secure: false, trusted: current.trusted.has(peer?.address ?? req.socket.remoteAddress ?? ''), peer }
  }
  // Responses under way, so that a drain can end their connections after them.
  const inFlight = new Set<ServerResponse>()
  function settled(this: ServerResponse) {
    inFlight.delete(this)
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const current = plan()
    if (draining) {
      res.shouldKeepAlive = false
      res.once('finish', () => server.closeIdleConnections())
    } else {
      inFlight.add(res)
      res.on('close', settled)
    }
    handle(current, new Exchange(req, res, arrival(req, current)))
  })
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const current = plan()
    handleUpgrade(current, new Exchange(req, new ServerResponse(req), arrival(req, current)), head, tunnels)
  }
  server.on('upgrade', upgrade)
  // CONNECT goes through the same guards, which answer it with 405: Portico opens no tunnels
  // on request. Without a listener, Node would drop the connection without a word.
  server.on('connect', upgrade)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => clientError(err, socket, plan().accessLog))
  server.on('error', (err) => events.error('listener error', { address, error: err.message }))

  server.listen({ host, port })
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))])
  const bound = server.address() as AddressInfo
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address

  return {
    url: `http://${urlHost}:${bound.port}`,
    apply,
    async close(graceMs) {
      draining = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Connections busy now end after their response: with `Connection: close` if its head is not
      // out yet, else as soon as they fall idle.
      for (const res of inFlight) {
        if (!res.headersSent) res.shouldKeepAlive = false
        else res.once('finish', () => server.closeIdleConnections())
      }
      // WebSocket tunnels count as open connections: they too get the grace period, then close.
      const timer = setTimeout(() => {
        server.closeAllConnections()
        for (const socket of tunnels) socket.destroy()
      }, graceMs)
      await closed
      clearTimeout(timer)
    },
  }
}
