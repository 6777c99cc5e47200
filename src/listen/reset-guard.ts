import type { Http2Session, ServerHttp2Stream } from 'node:http2'
import { lazyBuiltin } from '../lazy-builtin.ts'
import type { EventLog } from '../log/events.ts'

// The window the reset rate is averaged over: a burst of up to ten seconds' worth passes.
const windowSeconds = 10

/**
 * Closes an HTTP/2 connection whose client cancels streams faster than `perSecond` on average
 * (rapid reset, CVE-2023-44487): each cancel costs Portico the work of a request and the client
 * almost nothing. The connection ends with GOAWAY ENHANCE_YOUR_CALM; other connections are untouched.
 */
export class ResetGuard {
  readonly #perSecond: number
  readonly #events: EventLog
  readonly #now: () => number

  constructor(perSecond: number, events: EventLog, now: () => number = () => performance.now()) {
    this.#perSecond = perSecond
    this.#events = events
    this.#now = now
  }

  /** Counts the resets of every stream of `session`. Call once per session. */
  watch(session: Http2Session): void {
    const max = this.#perSecond * windowSeconds
    let tokens = max
    let at = this.#now()
    // One listener per connection, shared by its streams.
    const onAborted = () => {
      const now = this.#now()
      tokens = Math.min(max, tokens + ((now - at) / 1000) * this.#perSecond) - 1
      at = now
      if (tokens >= 0 || session.destroyed) return
      this.#events.warn('HTTP/2 connection closed: too many stream resets', {
        client: session.socket?.remoteAddress,
        limit_per_second: this.#perSecond,
      })
      session.goaway(lazyBuiltin('node:http2').constants.NGHTTP2_ENHANCE_YOUR_CALM)
      session.destroy()
    }
    session.on('stream', (stream: ServerHttp2Stream) => stream.once('aborted', onAborted))
  }
}
