import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { Parser } from '../parser.ts'

/**
 * The body of a request with a Content-Length, read by Portico's own HTTP/1.1 server: a readable
 * stream as node's `IncomingMessage` is one, with the same backpressure (the connection stops
 * reading while the stream's buffer is full) and the same end when the client leaves mid-body
 * ('aborted', then a close; an `ECONNRESET` error only when someone listens for errors). The body
 * bytes are slices of what the connection received, never copied. They also pass through the
 * connection's parser, which then stands at the next request's first byte; as llhttp has checked
 * the one Content-Length (no Transfer-Encoding, no second length, digits only), both count alike.
 */
export class H1Body extends Readable {
  /** The client left before the body was whole, as node's request says. */
  aborted = false
  /** Bytes of the body not received yet. */
  #left: number
  /** The rest of the body is dropped as it comes, unread: its response was sent whole first. */
  #dropping = false
  readonly #socket: Socket
  readonly #parser: Parser

  constructor(socket: Socket, parser: Parser, length: number) {
    super()
    this.#socket = socket
    this.#parser = parser
    this.#left = length
  }

  /** Whether every byte of the body has been received. */
  get received(): boolean {
    return this.#left === 0
  }

  /**
   * Takes the body's bytes from the start of `chunk` and returns what follows the body's end
   * (undefined when nothing does). Stops the connection's reading while the stream is full. If the
   * parser does not count the bytes as body, the connection is cut (its close ends the body).
   */
  receive(chunk: Buffer): Buffer | undefined {
    const size = Math.min(this.#left, chunk.length)
    const part = size === chunk.length ? chunk : chunk.subarray(0, size)
    if (this.#parser.execute(part) !== size) {
      this.#socket.destroy()
      return undefined
    }
    this.#left -= size
    if (!this.#dropping && !this.destroyed) {
      if (!this.push(part) && this.#left > 0) this.#socket.pause()
      if (this.#left === 0) this.push(null)
    }
    return size === chunk.length ? undefined : chunk.subarray(size)
  }

  /** Drops what is still to come of the body, unread: its response is complete, and the connection reads on to the next request. */
  discard(): void {
    this.#dropping = true
    this.destroy()
  }

  /** Ends the body as node's request ends when its client leaves before the body is whole or read. */
  abort(): void {
    if (!this.destroyed) this.destroy(clientLeft())
  }

  override _read(): void {
    if (this.#left > 0 && this.#socket.isPaused()) this.#socket.resume()
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.#dropping && (this.#left > 0 || !this.readableEnded)) {
      this.aborted = true
      this.emit('aborted')
    }
    // As node's requests do: the error is emitted only to a listener (node's IncomingMessage._destroy).
    done(this.listenerCount('error') > 0 ? err : null)
  }
}

/** The error a request body ends with when its client leaves before the body is whole, node's own. */
function clientLeft(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' })
}
