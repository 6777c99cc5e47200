import type { Readable, Writable } from 'node:stream'
import { respondError, startResponse } from '../answer/respond.ts'
import { trailersOnlyStatus } from '../answer/trailers-only-status.ts'
import { type FailureCode, ProxyError } from '../errors.ts'
import type { Cancellable, Exchange } from '../exchange.ts'
import { backendRequestHeaders, clientResponseHeaders } from '../http/proxy-headers.ts'
import { classify } from './classify.ts'
import type { Pool, Ticket } from './pool/pool.ts'
import { idempotent, retryCharge } from './retry.ts'
import type { RetryBudget } from './retry-budget.ts'
import type { Server } from './server.ts'
import type { HeaderRecord, RequestControl, ResponseReceiver } from './transport.ts'

/**
 * Sends the exchange to a server of `pool` and streams the response back with backpressure both
 * ways. `body` is the request body to send, or null for none. A failed attempt is retried on
 * another server only when the catalogue allows it, the body can be sent again (it was not read
 * yet, or `x.body` can replay it), and nothing has reached the client yet.
 */
export function forward(x: Exchange, pool: Pool, body: Readable | Buffer | null): void {
  x.pool = pool
  pool.acquire(new Attempt(x, pool, body, undefined, false))
}

/**
 * Whether a failed attempt met a keep-alive connection the server had closed (USERS #1): the connection had carried a
 * request before, it was closed or reset, and not a byte of a response came back. It is sent again on a fresh
 * connection when that is safe: the connection was seen closed before the request's first byte was written (the server
 * never got it), or the request is idempotent. A request written on it may have been read and acted on by a server that
 * closed the connection before answering (#21), so any other request is never sent again.
 */
function stale(x: Exchange, code: FailureCode, reused: boolean, responded: boolean, written: boolean): boolean {
  if (code !== 'backend_reset' || !reused || responded) return false
  return !written || idempotent(x)
}

/**
 * One attempt at one server: waits for a server as the pool's ticket, then is the receiver of the
 * response (transport.ts), whichever transport carries it, and copies it to the client.
 */
class Attempt implements ResponseReceiver, Ticket, Cancellable {
  readonly x: Exchange
  readonly tried: readonly Server[] | undefined
  /** Whether this attempt goes on a new connection of its own: the retry after a stale one. */
  readonly #fresh: boolean
  /** Whether any response (informational included) came back. */
  #responded = false
  #pool: Pool
  #server!: Server
  readonly #body: Readable | Buffer | null
  #sentAt = 0
  #controller: RequestControl | undefined
  /** Where body chunks go: the client's response, or the first of the response phases' transforms. */
  #out: Writable
  #released = false
  /** The retry budget that counts this attempt while it is under way, if it is a retry that costs. */
  #budget: RetryBudget | undefined = undefined
  /** Resumes the backend once the client's response drains; set only while it waits (a paused backend hands over the rest of a read). */
  #onDrain: (() => void) | undefined
  /** gRPC status fields moved from the head of a Trailers-Only response, sent as trailers to an HTTP/2 client. */
  #statusTrailers: Record<string, string> | undefined

  constructor(
    x: Exchange,
    pool: Pool,
    body: Readable | Buffer | null,
    tried: readonly Server[] | undefined,
    fresh: boolean,
  ) {
    this.x = x
    this.#fresh = fresh
    this.#pool = pool
    this.#body = body
    this.tried = tried
    this.#out = x.responseStream
  }

  /** `pool` found a server (Ticket): sends the request there. */
  start(server: Server, pool: Pool): void {
    const x = this.x
    this.#pool = pool
    x.pool = pool
    this.#server = server
    this.#sentAt = performance.now()
    x.server = server
    x.attempts++
    const headers = backendRequestHeaders(x, pool.hostHeader)
    x.body?.fitHeaders(headers)
    const dispatcher = this.#fresh ? server.state.fresh() : server.state.dispatcher
    dispatcher.dispatch(
      {
        path: x.path,
        method: x.req.method!,
        headers,
        body: this.#body,
        // A body straight from the client is read once; one kept whole (x.body) replays its chunks.
        bodyChunksFree: x.body === undefined,
        headersTimeout: pool.retries.perTryMs,
        bodyTimeout: pool.timeouts.bodyIdleMs,
      },
      this,
    )
    if (this.#fresh) void dispatcher.close()
  }

  /** The pool has no server for this exchange (Ticket). */
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void {
    this.#settle()
    respondError(this.x, code, headers)
  }

  onRequestStart(controller: RequestControl): void {
    this.#controller = controller
    const x = this.x
    if (x.cancelled) {
      controller.abort(clientGone)
      return
    }
    // The exchange holds its one request under way, instead of a listener per attempt on a signal.
    x.attempt = this
  }

  /** The client is gone (Cancellable): stops the backend request. */
  cancel(): void {
    this.#controller?.abort(clientGone)
  }

  onResponseStart(controller: RequestControl, statusCode: number, parsed: HeaderRecord, statusMessage?: string): void {
    this.#responded = true
    const x = this.x
    if (statusCode < 200) {
      // Early Hints' links reach HTTP/1.1 clients (RFC 8297); other informational answers stop here.
      const link = parsed.link
      if (statusCode === 103 && link !== undefined && x.isHttp1() && x.req.httpVersion === '1.1')
        x.res.writeEarlyHints({ link })
      return
    }
    x.backendMs = performance.now() - this.#sentAt
    x.status = statusCode
    const raw = controller.rawHeaders ?? []
    const headers = clientResponseHeaders(x, raw, parsed.connection)
    if (parsed.trailer !== undefined && !trailersCanFollow(x, statusCode, parsed)) dropTrailerHeader(headers)
    if (x.setCookie) headers.push('set-cookie', x.setCookie)
    if (x.isHttp2()) {
      this.#statusTrailers = trailersOnlyStatus(headers)
      x.res.trailersMayFollow = this.#statusTrailers !== undefined || trailersMayCome(parsed)
    }
    this.#out = startResponse(x, statusCode, headers, statusMessage, true)
  }

  onResponseData(controller: RequestControl, chunk: Buffer): void {
    const x = this.x
    if (this.#out === x.responseStream) {
      // Straight to the client: the held head goes first. Through transforms, they see to both.
      x.held?.send()
      x.bytesOut += chunk.length
    }
    if (!this.#out.write(chunk) && this.#onDrain === undefined) {
      controller.pause()
      this.#onDrain = () => {
        this.#onDrain = undefined
        this.#controller?.resume()
      }
      this.#out.once('drain', this.#onDrain)
    }
  }

  onResponseEnd(controller: RequestControl): void {
    this.#release(undefined)
    const raw = controller.rawTrailers
    const x = this.x
    const direct = this.#out === x.responseStream
    // Trailers pass only when the body is not transformed on its way.
    if (raw && raw.length > 0 && direct) x.res.addTrailers(trailerFields(raw))
    if (this.#statusTrailers) x.res.addTrailers(this.#statusTrailers)
    if (direct) x.held?.send()
    this.#out.end()
  }

  onResponseError(controller: RequestControl | undefined, err: Error): void {
    const x = this.x
    // A head held back has not reached the client: drop it, for a retry or an answer of its own.
    x.held?.discard()
    let code = x.cancelled ? 'client_aborted' : classify(err)
    // Without a control the request never had a connection: nothing was written.
    const written = controller?.written ?? false
    const reused = controller?.reused ?? false
    if (stale(x, code, reused, this.#responded, written)) code = 'stale_connection'
    const dropped = !this.#responded && (code === 'backend_reset' || code === 'stale_connection')
    const wentDown = this.#release(code, dropped)
    const pool = this.#pool
    // A body kept whole (x.body) is sent again from its start: only the method decides then.
    const replay = x.body?.replayable === true
    const body = replay ? null : this.#body
    const tried = this.tried ? [...this.tried, this.#server] : [this.#server]
    const charged = retryCharge(x, code, body, pool, tried, wentDown)
    const budget = pool.retries.budget
    if (charged !== undefined && (!charged || budget.begin(pool.inFlight))) {
      x.retried = code
      ;(x.retries ??= []).push(code)
      const next = replay ? x.body!.open() : this.#body
      const attempt = new Attempt(x, pool, next, tried, code === 'stale_connection')
      if (charged) {
        attempt.#budget = budget
        // A retry whose client leaves while it waits in the queue is neither started nor failed.
        x.abort.signal.addEventListener('abort', () => attempt.#settle(), { once: true })
      }
      pool.acquire(attempt)
      return
    }
    if (code === 'backend_reset' && reused && !this.#responded && written) {
      pool.events.warn('request not retried: the server closed a reused connection after the request was written', {
        pool: pool.name,
        server: this.#server.address,
        method: x.req.method,
        hint: "keep keepalive.idle below the server's keep-alive timeout",
      })
    }
    respondError(x, code)
  }

  /** Ends this attempt's share of the retry budget, once, however the attempt ends. */
  #settle(): void {
    this.#budget?.end()
    this.#budget = undefined
  }

  /**
   * Ends this attempt at its server, once: its slot, its share of the budget, what it tells passive
   * health. Returns whether the server dropped it while going down with others (`dropped`: its
   * connection closed before any answer).
   */
  #release(code: FailureCode | undefined, dropped = false): boolean {
    if (this.#released) return false
    this.#released = true
    this.#settle()
    const x = this.x
    const now = performance.now()
    const wentDown = this.#server.state.attemptEnded(dropped, this.#sentAt, now)
    x.backendHeldMs = now - this.#sentAt
    if (x.attempt === this) x.attempt = undefined
    this.#pool.release(
      this.#server,
      {
        ok: code === undefined,
        code,
        status: x.status || undefined,
        latencyMs: x.backendMs >= 0 ? x.backendMs : undefined,
      },
      now,
    )
    return wentDown
  }
}

// The reason a backend request is aborted with when its client leaves; one object, since nobody reads its stack.
const clientGone = new ProxyError('client_aborted')

/** Trailers as an object, which HTTP/1.1 and HTTP/2 responses both take; repeated names are joined. */
function trailerFields(list: readonly (Buffer | string)[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!.toString('latin1').toLowerCase()
    const value = list[i + 1]!.toString('latin1')
    fields[name] = fields[name] === undefined ? value : `${fields[name]}, ${value}`
  }
  return fields
}

/**
 * Whether trailers can reach the client: only chunked HTTP/1.1 framing carries them (RFC 9112
 * §7.1.2), so an HTTP/1.1 client, a response with a body and no Content-Length; HTTP/2 always can.
 */
function trailersCanFollow(x: Exchange, status: number, parsed: Record<string, unknown>): boolean {
  if (x.h2) return true
  return (
    x.req.httpVersion === '1.1' &&
    x.req.method !== 'HEAD' &&
    status !== 204 &&
    status !== 304 &&
    parsed['content-length'] === undefined
  )
}

/**
 * Whether a backend's response may end with trailers, which an HTTP/2 client's stream must then
 * wait for: it announces them, or its length is not known ahead (chunked HTTP/1.1, or an HTTP/2
 * response without Content-Length, as gRPC's are). A response of known length that sends trailers
 * it did not announce loses them, as it would on its way to an HTTP/1.1 client (RFC 9112 §7.1.2).
 */
function trailersMayCome(parsed: Readonly<Record<string, unknown>>): boolean {
  return parsed.trailer !== undefined || parsed['content-length'] === undefined
}

/** Removes `Trailer` from a flat header list: announced trailers that cannot follow (Node refuses them). */
function dropTrailerHeader(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i]!.toLowerCase() === 'trailer') headers.splice(i, 2)
  }
}
