import type { HeaderRecord, OutgoingRequest, ResponseReceiver } from '../../upstream/transport.ts'

// The engine's client implements upstream's transport contract (upstream/transport.ts), so it
// names the contract's types instead of restating them; the import is of types only, erased at run time.
/** One request to send: its target, method, flat header list, body, and timeouts in milliseconds. */
export type DispatchOptions = OutgoingRequest
/**
 * What receives a response, in order: `onRequestStart` once the request has a connection, heads,
 * body chunks, then one end (`onResponseEnd` or `onResponseError`). The controller it hears is
 * the {@link Call}.
 */
export type ResponseHandler = ResponseReceiver
export type { HeaderRecord }

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
