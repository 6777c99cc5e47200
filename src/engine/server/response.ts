import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http'
import type { Socket } from 'node:net'
import { Stream } from 'node:stream'
import { type BatchedWrite, batchWrite } from '../batched-writes.ts'
import type { Piece, SocketWriter } from '../socket-writer.ts'
import { type Fields, HeadText, headText, httpDate, type RenderedFields } from './head-text.ts'
import type { H1Request } from './request.ts'

/** What a response tells the connection it goes out on. */
export interface ResponseOwner {
  /** The response's last byte went to the socket: the connection may read the next request. */
  responded(res: H1Response): void
  /** The `Keep-Alive: timeout=` a response head announces, in seconds; 0 for none. */
  keepAliveSeconds(): number
}

/**
 * The response to an {@link H1Request}: the parts of node's `ServerResponse` the pipeline uses, and
 * a legacy writable stream as that one is, so that `pipeline()` can end in it. The head goes out
 * with the first body bytes, and everything a response writes in one event loop turn in one
 * system call, after the turn's I/O callbacks (see batched-writes.ts), straight to the socket's
 * handle when it can (see SocketWriter).
 * Framing is node's: the head's Content-Length, else chunked; no body for HEAD, 1xx, 204 and 304.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below only types what Stream gives
export class H1Response extends Stream implements BatchedWrite {
  readonly socket: Socket
  statusCode = 200
  /** Whether the connection stays open after this response; false sends `Connection: close`. */
  shouldKeepAlive: boolean
  headersSent = false
  writable = true
  writableEnded = false
  writableFinished = false
  destroyed = false
  readonly #owner: ResponseOwner
  readonly #writer: SocketWriter
  /** The head, until the first bytes go out with it. */
  #head: string | undefined = undefined
  #chunked = false
  #hasBody: boolean
  /** What was written in this turn and not yet given to the socket: `[chunk, encoding, …]`. */
  #pieces: Piece[] = []
  /** The body bytes among the pieces. */
  #piecesBytes = 0
  /** The pieces are given to the socket at the end of this turn. */
  #flushing = false
  #trailers: Record<string, string> | undefined = undefined
  /** A write found the socket's buffer full: 'drain' is owed. */
  needDrain = false

  constructor(owner: ResponseOwner, req: H1Request, writer: SocketWriter, keepAlive: boolean) {
    super()
    this.#owner = owner
    this.#writer = writer
    this.socket = writer.socket
    this.shouldKeepAlive = keepAlive
    this.#hasBody = req.method !== 'HEAD'
  }

  writeHead(status: number, reasonOrFields?: string | Fields, fields?: Fields): this {
    this.#checkHead(status)
    const reason = typeof reasonOrFields === 'string' ? reasonOrFields : (STATUS_CODES[status] ?? 'unknown')
    const list = typeof reasonOrFields === 'string' ? fields : reasonOrFields
    return this.#headDone(status, headText(`HTTP/1.1 ${status} ${reason}\r\n`, list))
  }

  /**
   * writeHead() with most of its fields checked and made into text once, ahead of time (a stored
   * response's head), and `more` (flat `[name, value, …]`) checked now.
   */
  writeRenderedHead(status: number, rendered: RenderedFields, more: readonly string[]): this {
    this.#checkHead(status)
    const head = HeadText.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`, rendered)
    for (let i = 0; i < more.length; i += 2) head.add(more[i]!, more[i + 1]!)
    return this.#headDone(status, head)
  }

  #checkHead(status: number): void {
    if (this.headersSent)
      throw Object.assign(new Error('Cannot write headers after they are sent to the client'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      })
    if (!(status >= 100 && status <= 999)) throw new RangeError(`Invalid status code: ${status}`)
  }

  /** Adds what the head's fields leave to the server (Date, Connection, framing) and keeps the head until the first bytes. */
  #headDone(status: number, head: HeadText): this {
    this.statusCode = status
    if (status === 204 || status === 304 || status < 200) this.#hasBody = false
    let text = head.text
    if (!head.date) text += `Date: ${httpDate()}\r\n`
    if (head.close) this.shouldKeepAlive = false
    else if (!head.connection) {
      if (!this.shouldKeepAlive) text += 'Connection: close\r\n'
      else {
        text += 'Connection: keep-alive\r\n'
        const seconds = this.#owner.keepAliveSeconds()
        if (seconds > 0) text += `Keep-Alive: timeout=${seconds}\r\n`
      }
    }
    if (head.chunked) this.#chunked = this.#hasBody
    else if (head.transferEncoding) this.shouldKeepAlive = false
    else if (!head.length && this.#hasBody) {
      text += 'Transfer-Encoding: chunked\r\n'
      this.#chunked = true
    }
    this.#head = `${text}\r\n`
    this.headersSent = true
    return this
  }

  /** Sends a 103 Early Hints response ahead of this one (RFC 8297). */
  writeEarlyHints(hints: Record<string, string | readonly string[]>): void {
    this.#writer.write(`${headText('HTTP/1.1 103 Early Hints\r\n', hints).text}\r\n`)
  }

  /** Trailers for the end of a chunked body; a response of known length has none (RFC 9112 §7.1.2). */
  addTrailers(trailers: Record<string, string>): void {
    for (const name in trailers) {
      validateHeaderName(name)
      validateHeaderValue(name, trailers[name])
    }
    this.#trailers = { ...this.#trailers, ...trailers }
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.writableEnded || this.destroyed) return false
    if (!this.headersSent) this.writeHead(this.statusCode)
    this.#flushSoon()
    this.#takeHead()
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
    if (!this.#hasBody || size === 0) return true
    const pieces = this.#pieces
    const encoding = typeof chunk === 'string' ? 'utf8' : 'buffer'
    if (this.#chunked) pieces.push(`${size.toString(16)}\r\n`, 'latin1', chunk, encoding, '\r\n', 'latin1')
    else pieces.push(chunk, encoding)
    this.#piecesBytes += size
    // Bytes the kernel has not taken yet, beyond the stream's usual mark: the writer should wait.
    const more = this.#piecesBytes + this.#writer.queued() < highWaterMark
    if (!more) this.needDrain = true
    return more
  }

  end(chunk?: Uint8Array | string | (() => void)): this {
    if (this.writableEnded) return this
    if (chunk !== undefined && typeof chunk !== 'function') this.write(chunk)
    else if (!this.headersSent) this.writeHead(this.statusCode, ['content-length', '0'])
    this.writableEnded = true
    this.#flushSoon()
    this.#takeHead()
    if (this.#chunked) {
      let last = '0\r\n'
      const trailers = this.#trailers
      if (trailers) for (const name in trailers) last += `${name}: ${trailers[name]}\r\n`
      this.#pieces.push(`${last}\r\n`, 'latin1')
    }
    return this
  }

  /** Cuts the connection, unless the response is complete already: the client sees it aborted. */
  destroy(): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.writable = false
    if (!this.writableFinished) this.socket.destroy()
    return this
  }

  /** The connection closed before the response was complete. */
  aborted(): void {
    this.destroyed = true
    this.writable = false
    this.emit('close')
  }

  /** The socket took the response's last byte. */
  readonly #flushed = (): void => {
    if (this.destroyed) return
    this.writableFinished = true
    this.writable = false
    this.emit('finish')
    this.emit('close')
    this.#owner.responded(this)
  }

  #takeHead(): void {
    const head = this.#head
    if (head === undefined) return
    this.#head = undefined
    this.#pieces.push(head, 'latin1')
  }

  /** Gathers what is written until the end of this turn into one write. */
  #flushSoon(): void {
    if (this.#flushing) return
    this.#flushing = true
    batchWrite(this)
  }

  /** What write() asked its writer to wait for has been sent: 'drain'. */
  readonly #drained = (): void => {
    if (this.destroyed || !this.needDrain) return
    this.needDrain = false
    this.emit('drain')
  }

  /**
   * Gives the socket what this turn wrote (BatchedWrite). Once that is sent, the response's end is
   * heard if it has ended, else 'drain' is emitted if write() asked to wait. The 'drain' hangs on
   * this write alone: the socket's own 'drain' comes only past its own, larger mark (64 KiB), and
   * over TLS every write goes through the socket's stream, so nothing else would tell (#21).
   */
  flushBatched(): void {
    this.#flushing = false
    if (this.destroyed) return
    this.#piecesBytes = 0
    const pieces = this.#pieces
    const done = this.writableEnded ? this.#flushed : this.needDrain ? this.#drained : undefined
    let sent: boolean
    if (pieces.length === 0) sent = done === undefined || this.#writer.whenSent(done)
    else {
      sent = this.#writer.writev(pieces, done)
      // A write libuv queued keeps its pieces until it is sent; a sent one leaves the list for reuse.
      if (sent) pieces.length = 0
      else this.#pieces = []
    }
    if (sent) done?.()
  }
}

// As node's writable streams: past this many bytes not yet sent, write() asks the writer to wait for 'drain'.
const highWaterMark = 16 * 1024

// The events and calls shared with node's responses, typed as node types theirs, so that code handles every kind alike.
export interface H1Response {
  on(event: 'close' | 'drain' | 'finish', listener: () => void): this
  on(event: string | symbol, listener: (...args: unknown[]) => void): this
  once(event: 'close' | 'drain' | 'finish', listener: () => void): this
  once(event: string | symbol, listener: (...args: unknown[]) => void): this
  end(cb?: () => void): this
  end(chunk: string | Uint8Array, cb?: () => void): this
}
