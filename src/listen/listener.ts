import { once } from 'node:events'
import type { Server as HttpServer } from 'node:http'
import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { compatibilityOff, type LiveList, type OwnServer } from '../engine/index.ts'
import type { ClientRequest, ClientResponse } from '../exchange.ts'
import { reusePort } from '../instance/reuse-port.ts'
import type { EventLog } from '../log/events.ts'
import type { ClientSettings, Plan } from '../plan/plan.ts'
import type { Acme } from '../tls/acme/manager.ts'
import { splitAddress } from '../values/address.ts'
import type { ConnectionGate } from './connection-gate.ts'
import type { GroupRate } from './group-rate.ts'
import { endWhenClientLeaves } from './h2-client-gone.ts'
import { serveStreams } from './h2-streams.ts'
import type { TlsServer } from './https.ts'
import type { NodeDrain } from './node-drain.ts'
import { ResetGuard } from './reset-guard.ts'
import type { ListenerConfig } from './schema.ts'

// How long the streams of an HTTP/2 client that closed its side of the connection may still run.
const clientGoneGraceMs = 1000

// A bound listener, and the parts listenHttp (http.ts) makes it of: how its connections and
// sessions are kept and counted, how it binds, rebalances and closes.

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

export /** What a listener is made of, shared by the functions below that wire and close it. */
interface Parts {
  readonly config: ListenerConfig
  readonly plan: () => Plan
  readonly events: EventLog
  /** The server that takes HTTP/1.1 connections; with TLS, the same one also takes HTTP/2. */
  readonly server: HttpServer | HttpsServer | Http2SecureServer
  /** Its HTTP/1.1 side: with TLS too, node serves HTTP/1.1 with node:http's server fields and methods. */
  readonly http1: HttpServer
  /** Portico's own server, which reads HTTP/1.1 requests first and gives node's server what it does not serve. */
  readonly h1: OwnServer
  /** Connections node's server serves drain as gracefully as Portico's own (see NodeDrain). */
  readonly nodeDrain: NodeDrain
  readonly tls: TlsServer | undefined
  /** Answers ACME challenges when the config obtains certificates. */
  readonly acme: Acme | undefined
  /** Decides the group's connection rate through Redis, when instances share state. */
  readonly groupRate: GroupRate | undefined
  readonly gate: ConnectionGate | undefined
  readonly connections: LiveList<Socket>
  readonly sessions: LiveList<Http2Session>
  /** Shared by every exchange of this listener: they read `draining` as they write their heads. */
  readonly status: { draining: boolean; retired: WeakSet<object> | undefined }
  readonly counts: { accepted: number; tlsHandshakes: number; tlsFailures: number }
}

/** Keeps the listener's open connections and its counts of connections and TLS handshakes. */
export function countConnections({ server, tls, counts, connections }: Parts): void {
  if (tls) {
    server.on('secureConnection', () => counts.tlsHandshakes++)
    server.on('tlsClientError', () => counts.tlsFailures++)
  }
  server.on('connection', (socket: Socket) => {
    counts.accepted++
    const entry = connections.add(socket)
    // 'close' comes once: `on` spares the wrapper `once` makes for each connection.
    socket.on('close', () => connections.remove(entry))
  })
}

/**
 * Keeps the open sessions of an HTTP/2 server, with its idle timeout and rapid reset guard, and
 * serves their streams with `serve` through node's stream API, its compatibility API taken off.
 */
export function watchSessions(
  { config, events, sessions, status }: Parts,
  h2: Http2SecureServer | Http2Server,
  serve: (req: ClientRequest, res: ClientResponse) => void,
): void {
  const guard = new ResetGuard(config.http2.max_reset_burst, config.http2.max_resets_per_second, events)
  h2.setTimeout(config.http2.idle_timeout)
  compatibilityOff(h2)
  h2.on('session', (session: Http2Session) => {
    const entry = sessions.add(session)
    session.once('close', () => sessions.remove(entry))
    serveStreams(session, serve, guard.watch(session))
    endWhenClientLeaves(session, clientGoneGraceMs)
    if (status.draining) session.close()
  })
}

/** Binds the listener's address; returns its URL, with port 0 resolved. */
export async function bind({ config, server, tls, gate }: Parts): Promise<string> {
  const { host, port } = splitAddress(config.address)!
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
  return `${tls ? 'https' : 'http'}://${urlHost}:${bound.port}`
}

/** The bound listener as Portico drives it: its counts, rebalance and close. */
export function listener(parts: Parts, url: string, apply: (client: ClientSettings) => void): Listener {
  const { server, http1, h1, nodeDrain, tls, gate, connections, sessions, status, counts } = parts
  return {
    url,
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
      http1.closeIdleConnections()
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
      nodeDrain.stop()
    },
  }
}
