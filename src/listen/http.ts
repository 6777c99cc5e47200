import { once } from 'node:events'
import { createServer, type Server as HttpServer, type IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { reusePort } from '../cluster/reuse-port.ts'
import { splitAddress } from '../config/common.ts'
import { Exchange } from '../exchange.ts'
import type { EventLog } from '../log/events.ts'
import { handle, handleUpgrade } from '../pipeline.ts'
import type { ClientSettings, Plan } from '../plan/plan.ts'

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
export async function listenHttp(address: string, plan: () => Plan, events: EventLog): Promise<Listener> {
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
  const apply = (client: ClientSettings) => {
    server.headersTimeout = client.requestHeadersTimeoutMs
    server.requestTimeout = Math.max(client.requestTimeoutMs, client.requestHeadersTimeoutMs)
    server.keepAliveTimeout = client.keepAliveIdleMs
  }
  apply(initial)

  const arrival = (req: IncomingMessage, current: Plan) => ({
    secure: false,
    trusted: current.trusted.has(req.socket.remoteAddress ?? ''),
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const current = plan()
    if (draining) {
      res.shouldKeepAlive = false
      res.once('finish', () => server.closeIdleConnections())
    }
    handle(current, new Exchange(req, res, arrival(req, current)))
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const current = plan()
    handleUpgrade(current, new Exchange(req, new ServerResponse(req), arrival(req, current)), head, tunnels)
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Malformed or too slow: answer once if the socket can still take it, then close.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket).bytesWritten > 0) {
      socket.destroy()
      return
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request'
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  })
  server.on('error', (err) => events.error('listener error', { address, error: err.message }))

  server.listen({ host, port, reusePort })
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
