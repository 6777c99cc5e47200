import { ProxyError } from '../../errors.ts'
import { LiveList } from '../live-list.ts'
import { Call, type CallRunner, type DispatchOptions, type ResponseHandler } from './call.ts'
import { Connection, type ConnectionOwner, type H1Settings } from './connection.ts'

// Why an idle connection is closed (past its time, or its client closing); nobody hears it, as no request is on it.
const idleClosed = new ProxyError('backend_reset')

/**
 * Keep-alive HTTP/1.1 connections to one server, one request at a time on each: an idle one is
 * reused (the most recently used first, so the others time out and close), a new one is opened
 * while fewer than `maxConnections` are, and further requests wait in order for one to be free.
 * A client made `once` opens a connection of its own for every request and closes it after.
 */
export class H1Client implements ConnectionOwner, CallRunner {
  readonly #settings: H1Settings
  readonly #maxConnections: number
  readonly #once: boolean
  readonly #open = new LiveList<Connection>()
  readonly #idle: Connection[] = []
  readonly #waiting: Call[] = []
  #closing = false
  #closed: (() => void) | undefined = undefined
  #sweep: NodeJS.Timeout | undefined = undefined
  /** How often idle connections are looked at: often enough to close them near their time. */
  readonly #sweepMs: number

  constructor(settings: H1Settings, maxConnections: number, once = false) {
    this.#settings = settings
    this.#maxConnections = maxConnections
    this.#once = once
    this.#sweepMs = Math.min(1000, Math.max(50, settings.keepAliveIdleMs / 4))
  }

  /** Sends a request; `handler` hears of its response or its failure, never synchronously of a failure to start. */
  dispatch(opts: DispatchOptions, handler: ResponseHandler): boolean {
    const call = new Call(opts, handler, this)
    if (this.#closing) {
      // A server being removed takes nothing new: the attempt goes to another server.
      queueMicrotask(() => call.fail(new ProxyError('backend_refused')))
      return false
    }
    const idle = this.#takeIdle()
    if (idle !== undefined) idle.run(call)
    else if (this.#open.size < this.#maxConnections) this.#connect().run(call)
    else this.#waiting.push(call)
    return true
  }

  /** Requests on a connection now (`running`) and waiting for one (`pending`, `queued`). */
  get stats(): { running: number; pending: number; queued: number } {
    const waiting = this.#waiting.length
    return { running: this.#open.size - this.#idle.length, pending: waiting, queued: waiting }
  }

  /** Takes no new requests and closes every connection once its request is done. */
  close(): Promise<void> {
    this.#closing = true
    for (const c of this.#idle.splice(0)) c.destroy(idleClosed)
    if (this.#open.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.#closed = resolve
    })
  }

  /** Closes every connection now; requests on them or waiting fail. */
  destroy(): Promise<void> {
    const closing = this.close()
    const gone = new ProxyError('backend_reset')
    for (const call of this.#waiting.splice(0)) call.fail(gone)
    for (const c of this.#open.values()) c.destroy(gone)
    return closing
  }

  free(connection: Connection): void {
    const next = this.#waiting.shift()
    if (next !== undefined) connection.run(next)
    else if (this.#closing || this.#once) connection.destroy(idleClosed)
    else {
      connection.idle(performance.now())
      this.#idle.push(connection)
      this.#sweep ??= setTimeout(this.#closeExpired, this.#sweepMs).unref()
    }
  }

  gone(connection: Connection): void {
    if (connection.entry) this.#open.remove(connection.entry)
    const i = this.#idle.lastIndexOf(connection)
    if (i >= 0) this.#idle.splice(i, 1)
    if (this.#waiting.length > 0 && !this.#closing) this.#connect().run(this.#waiting.shift()!)
    else if (this.#closing && this.#open.size === 0) this.#closed?.()
  }

  /** A waiting call whose client left: it leaves the queue. */
  abortCall(call: Call, reason: Error): void {
    const i = this.#waiting.indexOf(call)
    if (i >= 0) this.#waiting.splice(i, 1)
    call.fail(reason)
  }

  pauseCall(): void {}

  resumeCall(): void {}

  /** The most recently used idle connection that may still be used; expired ones on top are closed. */
  #takeIdle(): Connection | undefined {
    const idle = this.#idle
    if (idle.length === 0) return undefined
    const now = performance.now()
    for (let c = idle.pop(); c !== undefined; c = idle.pop()) {
      if (c.idleUntil > now) return c
      c.destroy(idleClosed)
    }
    return undefined
  }

  /**
   * Closes idle connections past their time, the oldest first (the bottom of the stack), and
   * looks again while any are left: one timer per server instead of one per request.
   */
  readonly #closeExpired = (): void => {
    this.#sweep = undefined
    const idle = this.#idle
    const now = performance.now()
    const old: Connection[] = []
    let kept = 0
    for (const c of idle) {
      if (c.idleUntil > now) idle[kept++] = c
      else old.push(c)
    }
    idle.length = kept
    for (const c of old) c.destroy(idleClosed)
    if (kept > 0) this.#sweep = setTimeout(this.#closeExpired, this.#sweepMs).unref()
  }

  #connect(): Connection {
    const connection = new Connection(this.#settings, this, !this.#once)
    connection.entry = this.#open.add(connection)
    return connection
  }
}
