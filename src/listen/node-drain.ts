import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { type Entry, LiveList } from '../engine/index.ts'

/** What the drain knows of one connection that node's HTTP/1.1 server serves. */
interface Served {
  readonly socket: Socket
  entry: Entry<Served> | undefined
  /** Responses under way. */
  busy: number
  /** `performance.now()` when the last response ended. */
  quietSince: number
  /** The socket's `bytesRead` then: more means a request has begun since. */
  bytesRead: number
  /** Sent its FIN: requests that still come get no answer. */
  closing: boolean
}

/**
 * The drain of the connections node's HTTP/1.1 server serves (uploads and whatever else Portico's
 * own server hands it), done as Portico's own server drains its connections: node's
 * `closeIdleConnections` destroys every connection with no request under way at once, which
 * resets those whose client has just written a request, or writes one an instant later.
 */
export class NodeDrain {
  readonly #served = new LiveList<Served>()
  readonly #bySocket = new WeakMap<Socket, Served>()
  readonly #quietMs: () => number
  readonly #lingerMs: () => number
  #timer: NodeJS.Timeout | undefined = undefined

  /**
   * Follows the HTTP/1.1 requests of `server` from now on, and makes its `closeIdleConnections`
   * (which its `close` calls too) start this drain instead. A connection closes once it has been
   * quiet for `quietMs()`; one whose client neither closes nor answers its FIN for `lingerMs()`
   * more is destroyed.
   */
  constructor(server: HttpServer, quietMs: () => number, lingerMs: () => number) {
    this.#quietMs = quietMs
    this.#lingerMs = lingerMs
    server.prependListener('request', this.#track)
    server.prependListener('checkContinue', this.#track)
    server.closeIdleConnections = () => this.drain()
  }

  /** Whether `socket` was closed by the drain: a request read from it now must not be served. */
  closing(socket: Socket): boolean {
    return this.#bySocket.get(socket)?.closing === true
  }

  /**
   * Closes each connection with no response under way and no byte read since its last one, once
   * it has been so for the quiet time, with a FIN: never a reset, and always after the event
   * loop's next poll, so that a request that waits in the socket is read first (and served, with
   * `Connection: close`). Goes on until `stop`.
   */
  drain(): void {
    if (this.#timer !== undefined) return
    const closeQuiet = () => {
      const since = performance.now() - this.#quietMs()
      for (const served of this.#served.values()) {
        if (served.closing || served.busy > 0 || served.quietSince > since) continue
        if (served.socket.bytesRead !== served.bytesRead) continue
        served.closing = true
        served.socket.end()
        setTimeout(() => served.socket.destroy(), this.#lingerMs()).unref()
      }
    }
    setImmediate(closeQuiet)
    this.#timer = setInterval(() => setImmediate(closeQuiet), Math.max(10, this.#quietMs() / 4)).unref()
  }

  /** Ends the drain: the server is closed. */
  stop(): void {
    clearInterval(this.#timer)
  }

  readonly #track = (req: IncomingMessage, res: ServerResponse): void => {
    // HTTP/2 requests of a TLS listener come this way too; their sessions drain by GOAWAY.
    if (req.httpVersionMajor !== 1) return
    const socket = req.socket
    let served = this.#bySocket.get(socket)
    if (served === undefined) {
      const created: Served = { socket, entry: undefined, busy: 0, quietSince: 0, bytesRead: 0, closing: false }
      created.entry = this.#served.add(created)
      this.#bySocket.set(socket, created)
      socket.once('close', () => this.#served.remove(created.entry!))
      served = created
    }
    const counted = served
    counted.busy++
    res.once('close', () => {
      counted.busy--
      counted.quietSince = performance.now()
      counted.bytesRead = socket.bytesRead
    })
  }
}
