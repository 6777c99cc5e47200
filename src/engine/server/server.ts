import type { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { handOff } from '../hand-off.ts'
import { LiveList } from '../live-list.ts'
import { H1Connection } from './connection.ts'
import type { ClientErrorCode, ConnectionHost } from './connection-host.ts'
import type { H1Request } from './request.ts'
import type { H1Response } from './response.ts'

/** The client deadlines an {@link H1Server} keeps, read again for each connection as a reload may change them. */
export interface H1Timeouts {
  /** Time a client has to send a request head, in milliseconds. */
  readonly requestHeadersTimeoutMs: number
  /** Time a client has to send a whole request, body included, in milliseconds; never less than the head's. */
  readonly requestTimeoutMs: number
  /** Time a keep-alive connection may wait for its next request, in milliseconds. */
  readonly keepAliveIdleMs: number
  /** While draining: time a connection must have been idle before it is closed, in milliseconds. */
  readonly drainIdleMs: number
}

/** What an {@link H1Server} serves, and where the connections it does not serve go. */
export interface H1ServerOptions {
  readonly maxHeaderBytes: number
  readonly client: () => H1Timeouts
  readonly onRequest: (req: H1Request, res: H1Response) => void
  /** How often deadlines are checked, in milliseconds, as node checks its own. */
  readonly checkMs: number
}

/**
 * Portico's own HTTP/1.1 server in front of node's: it takes the connections the connection chain
 * gives it ({@link link}; over TLS, every one that did not choose HTTP/2 by ALPN) and serves its
 * requests itself, without a body or with one of known length, with less work per request than
 * node's server (one stream per body, none per response). A connection whose request it does not
 * serve goes to node's server, which then keeps it: chunked uploads, `Expect`, upgrades, HTTP/1.0
 * and anything its parser refuses are answered exactly as before.
 */
export class H1Server implements ConnectionHost {
  readonly maxHeaderBytes: number
  readonly #node: EventEmitter
  /** Gives a connection to node's HTTP/1.1 server, which keeps it from then on; set by {@link link}. */
  #serveNode: (socket: Socket) => void = (socket) => socket.destroy()
  readonly #client: () => H1Timeouts
  readonly #onRequest: (req: H1Request, res: H1Response) => void
  readonly #connections = new LiveList<H1Connection>()
  readonly #sweep: NodeJS.Timeout
  /** Set by {@link drain}: every connection closes once its response is done. */
  draining = false
  /** While draining: closes connections as they have been idle long enough. */
  #drainTimer: NodeJS.Timeout | undefined = undefined

  /**
   * Serves the connections the chain gives it through {@link link}; `node` is node's HTTP/1.1 server, which hears a
   * 'clientError' when a head deadline passes, as it would for its own connections.
   */
  constructor(node: EventEmitter, options: H1ServerOptions) {
    this.maxHeaderBytes = options.maxHeaderBytes
    this.#node = node
    this.#client = options.client
    this.#onRequest = options.onRequest
    this.#sweep = setInterval(() => this.#expire(), options.checkMs).unref()
  }

  /**
   * This server's link in the connection chain (listen/chain.ts): `serveNode` gives a connection to
   * node's HTTP/1.1 server, which gets each connection at the first request not served here.
   */
  readonly link = (serveNode: (socket: Socket) => void): ((socket: Socket) => void) => {
    this.#serveNode = serveNode
    return (socket) => this.#accept(socket)
  }

  #accept(socket: Socket): void {
    const connection = new H1Connection(this, socket)
    connection.entry = this.#connections.add(connection)
  }

  readonly headersTimeoutMs = (): number => this.#client().requestHeadersTimeoutMs

  readonly keepAliveIdleMs = (): number => this.#client().keepAliveIdleMs

  // As node's server has it (listen/http.ts sets node's `requestTimeout` alike).
  readonly requestTimeoutMs = (): number => {
    const client = this.#client()
    return Math.max(client.requestTimeoutMs, client.requestHeadersTimeoutMs)
  }

  request(req: H1Request, res: H1Response): void {
    this.#onRequest(req, res)
  }

  handOff(connection: H1Connection, pending: Buffer | undefined): void {
    handOff(connection.socket, pending, this.#serveNode)
  }

  clientError(connection: H1Connection, code: ClientErrorCode): void {
    const message = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'Request timeout' : 'Parse Error: Invalid EOF state'
    this.#node.emit('clientError', Object.assign(new Error(message), { code }), connection.socket)
  }

  closed(connection: H1Connection): void {
    if (connection.entry) this.#connections.remove(connection.entry)
    connection.entry = undefined
  }

  /**
   * Closes every connection once its response is done, with `Connection: close`, and each one with
   * no request under way gracefully (see H1Connection.closeIdle) once it has been idle for the
   * `drain_idle` time. Those idle that long close after the event loop's next poll, so that a
   * request a client wrote as the drain began is read, and served.
   */
  drain(): void {
    this.draining = true
    if (this.#drainTimer !== undefined) return
    const quietMs = this.#client().drainIdleMs
    const closeQuiet = () => {
      const since = performance.now() - quietMs
      for (const connection of this.#connections.values()) if (connection.idleSince <= since) connection.closeIdle()
    }
    // Always after a poll phase: once the process was stalled, timers run before the requests that
    // wait in sockets are read, and those connections would look idle.
    setImmediate(closeQuiet)
    this.#drainTimer = setInterval(() => setImmediate(closeQuiet), Math.max(10, quietMs / 4)).unref()
  }

  /** Makes every connection open now close after its next response, which says `Connection: close`. */
  retire(): void {
    for (const connection of this.#connections.values()) connection.retire()
  }

  /** Stops checking deadlines: the listener is closed. */
  stop(): void {
    clearInterval(this.#sweep)
    clearInterval(this.#drainTimer)
  }

  #expire(): void {
    const now = performance.now()
    for (const connection of this.#connections.values()) {
      if (connection.deadline < now) connection.expire()
    }
  }
}
