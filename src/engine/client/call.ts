import type { Readable } from 'node:stream'

/** One request to send: its target, method, flat header list, body, and timeouts in milliseconds. */
export interface DispatchOptions {
  readonly path: string
  readonly method: string
  /** Flat `[name, value, …]`, written in this order and case. */
  readonly headers: readonly string[]
  readonly body: Readable | Buffer | null
  /** Most time from sending the request to its response head, and between response bytes; 0 for none. */
  readonly headersTimeout?: number
  readonly bodyTimeout?: number
}

/** The header fields a handler may read from the record; every field is in `rawHeaders`. */
export type HeaderRecord = Record<string, string | string[] | undefined>

/**
 * What receives a response, in order: `onRequestStart` once the request has a connection, heads,
 * body chunks, then one end (`onResponseEnd` or `onResponseError`). The client's callers see the
 * same callbacks whichever client carries a request: upstream's transport contract has this shape.
 */
export interface ResponseHandler {
  onRequestStart?(controller: Call, context: unknown): void
  onResponseStart?(controller: Call, statusCode: number, headers: HeaderRecord, statusMessage?: string): void
  onResponseData?(controller: Call, chunk: Buffer): void
  onResponseEnd?(controller: Call, trailers: HeaderRecord): void
  onResponseError?(controller: Call, error: Error): void
}

/** Where a call runs, or waits for a connection: what its controller acts on. */
export interface CallRunner {
  abortCall(call: Call, reason: Error): void
  pauseCall(call: Call): void
  resumeCall(call: Call): void
}

/**
 * One request and the controller its handler steers it with: abort (the client left), pause and
 * resume (the client reads slower than the backend sends). Ends once: with the response's end or
 * with one error.
 */
export class Call {
  readonly opts: DispatchOptions
  readonly handler: ResponseHandler
  /** The connection it runs on, or the client whose queue it waits in. */
  host: CallRunner
  /** Whether its connection had carried a request before it: an idle keep-alive connection, which the server may have closed. */
  reused = false
  /**
   * Whether a byte of the request went to the socket. A call that fails while this is false never
   * reached the server: its connection was seen closed first, so it may be sent again whatever its method.
   */
  written = false
  /** The response's raw head fields, then its trailers: flat `[name, value, …]`. */
  rawHeaders: string[] | undefined = undefined
  rawTrailers: string[] | undefined = undefined
  aborted = false
  paused = false
  reason: Error | null = null
  /** It ended: no callback follows. */
  done = false

  constructor(opts: DispatchOptions, handler: ResponseHandler, host: CallRunner) {
    this.opts = opts
    this.handler = handler
    this.host = host
    // A body that fails (the client left, a limit was passed) ends the call, whenever that happens;
    // the listener stays, so a late error finds someone to hear it.
    const body = opts.body
    if (body !== null && !Buffer.isBuffer(body)) body.on('error', (err) => this.abort(err))
  }

  abort(reason: Error): void {
    if (this.done) return
    this.aborted = true
    this.reason = reason
    this.host.abortCall(this, reason)
  }

  pause(): void {
    this.paused = true
    this.host.pauseCall(this)
  }

  resume(): void {
    this.paused = false
    this.host.resumeCall(this)
  }

  /** Ends it with `err`, once. */
  fail(err: Error): void {
    if (this.done) return
    this.done = true
    this.handler.onResponseError?.(this, err)
  }
}
