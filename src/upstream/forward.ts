import { pipeline, type Readable, type Transform, type Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders, clientResponseHeaders } from '../http/proxy-headers.ts'
import { respondError } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool } from './pool.ts'
import type { Server } from './server.ts'
import { dispatchFresh } from './server-registry.ts'
import { type ReuseWatch, socketReuse } from './socket-reuse.ts'

type Controller = Dispatcher.DispatchController & { rawHeaders?: Buffer[]; rawTrailers?: Buffer[] }

/**
 * Sends the exchange to a server of `pool` and streams the response back with backpressure both
 * ways. `body` is the request body to send, or null for none. A failed attempt is retried on
 * another server only when the catalogue allows it, the body can be sent again, and nothing has
 * reached the client yet.
 */
export function forward(x: Exchange, pool: Pool, body: Readable | null): void {
  x.pool = pool
  attempt(x, pool, body, undefined)
}

/**
 * One attempt on a server the pool picks, never `tried`. `fresh` sends it on a new connection
 * instead of the server's keep-alive pool: the retry after a stale connection.
 */
function attempt(x: Exchange, pool: Pool, body: Readable | null, tried: Server | undefined, fresh = false): void {
  const server = pool.pick(x, tried) ?? (tried ? pool.pick(x, undefined) : undefined)
  if (!server) {
    respondError(x, 'no_server')
    return
  }
  x.server = server
  x.attempts++
  const t = pool.timeouts
  const handler = new Attempt(x, pool, server, body)
  const options: Dispatcher.DispatchOptions = {
    path: x.path,
    method: x.req.method as Dispatcher.HttpMethod,
    headers: backendRequestHeaders(x, pool.hostHeader),
    body,
    headersTimeout: t.responseHeadersMs,
    bodyTimeout: t.bodyIdleMs,
  }
  if (fresh) dispatchFresh(server.state.origin, t.connectMs, options, handler)
  else server.state.dispatcher.dispatch(options, handler)
}

/**
 * Whether a failed attempt met a keep-alive connection the server had already closed (USERS #1):
 * the connection had carried a request before, it was closed or reset, and not a byte of a
 * response came back. The server never saw this request, so it is sent again on a fresh
 * connection whatever its method, when its body can still be sent.
 */
function stale(code: FailureCode, reused: boolean, responded: boolean): boolean {
  return code === 'backend_reset' && reused && !responded
}

/** One attempt at one server: the undici handler that copies the response to the client. */
class Attempt implements Dispatcher.DispatchHandler, ReuseWatch {
  readonly #x: Exchange
  readonly #pool: Pool
  readonly #server: Server
  readonly #body: Readable | null
  readonly #sentAt = performance.now()
  #controller: Controller | undefined
  /** Where body chunks go: the client's response, or the first of the response phases' transforms. */
  #out: Writable
  #released = false
  /** Whether the request went out on a connection that had carried one before. */
  reused = false
  /** Whether any response (informational included) came back. */
  #responded = false
  #onAbort: (() => void) | undefined
  #onDrain: (() => void) | undefined

  constructor(x: Exchange, pool: Pool, server: Server, body: Readable | null) {
    this.#x = x
    this.#pool = pool
    this.#server = server
    this.#body = body
    this.#out = x.res
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller
    const signal = this.#x.abort.signal
    if (signal.aborted) {
      controller.abort(signal.reason)
      return
    }
    this.#onAbort = () => controller.abort(signal.reason)
    signal.addEventListener('abort', this.#onAbort, { once: true })
    socketReuse(this)
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    parsed: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.#responded = true
    const x = this.#x
    if (statusCode < 200) {
      // Early Hints' links reach HTTP/1.1 clients (RFC 8297); other informational answers stop here.
      const link = parsed.link
      if (statusCode === 103 && link !== undefined && x.req.httpVersion === '1.1') x.res.writeEarlyHints({ link })
      return
    }
    x.backendMs = performance.now() - this.#sentAt
    x.status = statusCode
    const headers = clientResponseHeaders(x, controller.rawHeaders ?? [])
    if (parsed.trailer !== undefined && !chunkedToClient(x, statusCode, parsed)) dropTrailerHeader(headers)
    const phases = x.route?.responsePhases
    let chain: Transform[] | undefined
    if (phases) {
      for (const phase of phases) {
        const transform = phase.onResponse(x, statusCode, headers)
        if (transform) (chain ??= []).push(transform)
      }
    }
    x.res.writeHead(statusCode, statusMessage || undefined, headers)
    if (chain) {
      this.#out = chain[0]!
      pipeline([...chain, x.res], ignore)
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const x = this.#x
    x.bytesOut += chunk.length
    if (!this.#out.write(chunk)) {
      controller.pause()
      this.#onDrain ??= () => this.#controller?.resume()
      this.#out.once('drain', this.#onDrain)
    }
  }

  onResponseEnd(controller: Controller): void {
    this.#release(true)
    const trailers = controller.rawTrailers
    // Trailers pass only when the body is not transformed on its way.
    if (trailers && trailers.length > 0 && this.#out === this.#x.res) {
      const list: [string, string][] = []
      for (let i = 0; i < trailers.length; i += 2)
        list.push([trailers[i]!.toString('latin1'), trailers[i + 1]!.toString('latin1')])
      this.#x.res.addTrailers(list)
    }
    this.#out.end()
  }

  onResponseError(_controller: Controller, err: Error): void {
    this.#release(false)
    const x = this.#x
    let code = x.abort.signal.aborted ? 'client_aborted' : classify(err)
    if (stale(code, this.reused, this.#responded)) code = 'stale_connection'
    if (!x.res.headersSent && this.#mayRetry(code)) {
      x.retried = code
      attempt(x, this.#pool, this.#body, this.#server, code === 'stale_connection')
      return
    }
    respondError(x, code)
  }

  #mayRetry(code: FailureCode): boolean {
    const x = this.#x
    // A stale connection is retried whatever came before: its fresh connection cannot be stale again.
    if (x.attempts > 1 && code !== 'stale_connection') return false
    const rule = failures[code].retry
    if (rule === 'never') return false
    // A request body that has been read in part cannot be sent again.
    if (this.#body !== null && rule !== 'always') return false
    if (rule === 'always') return this.#body === null || this.#body.readableDidRead === false
    return idempotent.has(x.req.method ?? '')
  }

  #release(ok: boolean): void {
    if (this.#released) return
    this.#released = true
    if (this.#onAbort) this.#x.abort.signal.removeEventListener('abort', this.#onAbort)
    this.#pool.release(this.#server, { ok, latencyMs: this.#x.backendMs >= 0 ? this.#x.backendMs : undefined })
  }
}

/**
 * Whether the response to the client will be chunked, the only framing that carries trailers
 * (RFC 9112 §7.1.2): an HTTP/1.1 client, a response with a body and no Content-Length.
 */
function chunkedToClient(x: Exchange, status: number, parsed: Record<string, unknown>): boolean {
  return (
    x.req.httpVersion === '1.1' &&
    x.req.method !== 'HEAD' &&
    status !== 204 &&
    status !== 304 &&
    parsed['content-length'] === undefined
  )
}

/** Removes `Trailer` from a flat header list: announced trailers that cannot follow (Node refuses them). */
function dropTrailerHeader(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i]!.toLowerCase() === 'trailer') headers.splice(i, 2)
  }
}

// RFC 9110 §9.2.2.
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

function ignore(): void {}
