import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { ignore } from '../../errors.ts'

/** What an HTTP/2 request body tells when its stream is cut: the exchange it belongs to. */
export interface BodyOwner {
  /** The client reset the stream, or lost its connection, before the body's end. */
  cancel(): void
}

/**
 * An HTTP/2 request read through node's stream API (`session.on('stream')`): the parts of node's
 * `Http2ServerRequest` the pipeline reads, without its per-request Readable, proxy socket and
 * listeners. The body, when there is one, is a stream of its own made on first use ({@link body}).
 */
export class H2Request {
  readonly stream: ServerHttp2Stream
  /** node's header record: names in lower case, pseudo-headers included. */
  readonly headers: IncomingHttpHeaders
  /** Flat `[name, value, …]`, as received, pseudo-headers included. */
  readonly rawHeaders: string[]
  readonly method: string
  /** The `:path` as sent; undefined for CONNECT, which has none. */
  readonly url: string | undefined
  readonly httpVersion = '2.0'
  readonly httpVersionMajor = 2
  readonly httpVersionMinor = 0
  /** The connection's socket (node's proxy of it, one per connection); never written to or ended per request. */
  readonly socket: Socket
  #body: H2Body | undefined = undefined

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[], socket: Socket) {
    this.stream = stream
    this.headers = headers
    this.rawHeaders = rawHeaders
    this.method = headers[':method'] as string
    this.url = headers[':path'] as string | undefined
    this.socket = socket
  }

  /** Whether the whole request has been read, or can no longer be. */
  get complete(): boolean {
    const stream = this.stream
    return stream.readableEnded || stream.destroyed || stream.closed || this.#body?.readableEnded === true
  }

  /**
   * The request body as a stream of its own, made on first call. Destroying it never resets the
   * client's stream, so that a backend failure can still be answered; a stream cut by the client
   * first tells `owner`, then fails the body, so that the backend never takes a cut body for whole.
   */
  body(owner: BodyOwner): Readable {
    this.#body ??= new H2Body(this.stream, owner)
    return this.#body
  }
}

/** An HTTP/2 request body: the stream's DATA, with backpressure; an error when the stream is cut before its end. */
class H2Body extends Readable {
  readonly #stream: ServerHttp2Stream
  #reading = false

  constructor(stream: ServerHttp2Stream, owner: BodyOwner) {
    super({ autoDestroy: false })
    this.#stream = stream
    // Its error is for whoever reads it; unheard (the exchange answered without reading), it would throw.
    this.on('error', ignore)
    stream.on('end', () => this.push(null))
    const cut = () => {
      if (this.readableEnded || this.destroyed) return
      owner.cancel()
      this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))
    }
    // 'aborted' comes as the RST_STREAM is read; 'close' without an end covers a connection lost
    // after the response was complete.
    stream.once('aborted', cut)
    stream.once('close', () => {
      if (!stream.readableEnded) cut()
    })
    // Made after the stream was cut (a request phase that waited): the events above are past.
    if (stream.destroyed && !stream.readableEnded) process.nextTick(cut)
  }

  override _read(): void {
    const stream = this.#stream
    if (this.#reading) {
      stream.resume()
      return
    }
    this.#reading = true
    stream.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stream.pause()
    })
  }
}
