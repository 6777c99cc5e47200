import type { Http2Session } from 'node:http2'
import { lazyBuiltin } from '../lazy-builtin.ts'
import type { EventLog } from '../log/events.ts'

// Streams still open on a connection the guard closed get this long to finish before it is cut.
const closeGraceMs = 1000

/**
 * Guards HTTP/2 connections against rapid reset (CVE-2023-44487), where a client opens streams and
 * cancels them at once: each costs Portico the work of a request and the client almost nothing.
 * A connection whose client cancels more than `burst` streams at once, or more than `perSecond`
 * on average after that, gets GOAWAY ENHANCE_YOUR_CALM and is closed; other connections are
 * untouched.
 */
export class ResetGuard {
  readonly #burst: number
  readonly #perSecond: number
  readonly #events: EventLog
  readonly #now: () => number
  /** Connections the guard closed: nothing more read on them is served. */
  readonly #closed = new WeakSet<Http2Session>()

  constructor(burst: number, perSecond: number, events: EventLog, now: () => number = () => performance.now()) {
    this.#burst = burst
    this.#perSecond = perSecond
    this.#events = events
    this.#now = now
  }

  /**
   * Counts the cancelled streams of `session` (a token bucket of `burst`, refilled at `perSecond`):
   * returns the function that each of its streams calls as the client cuts it ('aborted'). Call once per session.
   */
  watch(session: Http2Session): () => void {
    const burst = this.#burst
    const perSecond = this.#perSecond
    let tokens = burst
    let at = this.#now()
    // One function per connection, shared by its streams. node emits 'aborted' as it reads the
    // RST_STREAM, before the next frame: the guard acts within the read that crossed the limit.
    return () => {
      const now = this.#now()
      tokens = Math.min(burst, tokens + ((now - at) / 1000) * perSecond) - 1
      at = now
      if (tokens >= 0 || this.#closed.has(session) || session.destroyed) return
      this.#closed.add(session)
      this.#events.warn('HTTP/2 connection closed: too many stream resets', {
        client: session.socket?.remoteAddress,
        burst,
        limit_per_second: perSecond,
      })
      // GOAWAY first, then a graceful close: nghttp2 ignores the streams the client opens after it,
      // and the client reads the GOAWAY (a connection destroyed under a flood would be reset, and
      // the GOAWAY lost with it).
      session.goaway(lazyBuiltin('node:http2').constants.NGHTTP2_ENHANCE_YOUR_CALM)
      session.close()
      setTimeout(() => session.destroy(), closeGraceMs).unref()
    }
  }
}
