import type { Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import { LiveList } from '../../live-list.ts'
import type { ClientSettings } from '../../plan/plan.ts'
import { handOff } from '../hand-off.ts'
import { type ConnectionHost, H1Connection } from './connection.ts'
import type { H1Request } from './request.ts'
import type { H1Response } from './response.ts'

/**
 * Portico's own HTTP/1.1 server in front of node's, on a plain listener: it takes every new
 * connection and serves the requests that need no body itself, with less work per request than
 * node's server (no per-request streams). A connection whose request it does not serve goes to
 * node's server, which then keeps it: uploads, `Expect`, upgrades, HTTP/1.0 and anything its
 * parser refuses are answered exactly as before.
 */
export class H1Server implements ConnectionHost {
  readonly maxHeaderBytes: number
  readonly #node: HttpServer
  readonly #serveNode: (socket: Socket) => void
  readonly #client: () => ClientSettings
  readonly #onRequest: (req: H1Request, res: H1Response) => void
  readonly #connections = new LiveList<H1Connection>()
  readonly #sweep: NodeJS.Timeout

  /**
   * Takes `node`'s connections from now on; `onRequest` serves the requests read here. Deadlines are
   * checked every `checkMs`, as node checks its own.
   */
  constructor(
    node: HttpServer,
    maxHeaderBytes: number,
    client: () => ClientSettings,
    onRequest: (req: H1Request, res: H1Response) => void,
    checkMs: number,
  ) {
    this.maxHeaderBytes = maxHeaderBytes
    this.#node = node
    this.#client = client
    this.#onRequest = onRequest
    this.#serveNode = node.listeners('connection')[0] as (socket: Socket) => void
    node.removeAllListeners('connection')
    node.on('connection', (socket: Socket) => {
      const connection = new H1Connection(this, socket)
      connection.entry = this.#connections.add(connection)
    })
    this.#sweep = setInterval(() => this.#expire(), checkMs).unref()
  }

  readonly headersTimeoutMs = (): number => this.#client().requestHeadersTimeoutMs

  readonly keepAliveIdleMs = (): number => this.#client().keepAliveIdleMs

  request(req: H1Request, res: H1Response): void {
    this.#onRequest(req, res)
  }

  handOff(connection: H1Connection, pending: Buffer | undefined): void {
    handOff(connection.socket, pending, (socket) => this.#serveNode.call(this.#node, socket))
  }

  timedOut(connection: H1Connection): void {
    const err = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })
    this.#node.emit('clientError', err, connection.socket)
  }

  closed(connection: H1Connection): void {
    if (connection.entry) this.#connections.remove(connection.entry)
    connection.entry = undefined
  }

  draining = false

  /**
   * Closes the connections with no response under way now, as node's `closeIdleConnections` does its
   * own, and every other one once its response is done.
   */
  drain(): void {
    this.draining = true
    for (const connection of this.#connections.values()) if (connection.idle) connection.socket.destroy()
  }

  /** Stops checking deadlines: the listener is closed. */
  stop(): void {
    clearInterval(this.#sweep)
  }

  #expire(): void {
    const now = performance.now()
    for (const connection of this.#connections.values()) {
      if (connection.idle && connection.deadline < now) connection.expire()
    }
  }
}
