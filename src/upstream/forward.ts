import type { Readable, Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders, clientResponseHeaders, flatHeaders } from '../http/proxy-headers.ts'
import { trailersOnlyStatus } from '../listen/trailers-only-status.ts'
import { respondError, startResponse } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool } from './pool.ts'
import type { Server } from './server.ts'

// Raw headers and trailers are a flat list over HTTP/1.1 and an object over HTTP/2.
type RawFields = Buffer[] | Record<string, string | string[]>
type Controller = Dispatcher.DispatchController & { rawHeaders?: RawFields; rawTrailers?: RawFields }

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

function attempt(x: Exchange, pool: Pool, body: Readable | null, tried: Server | undefined): void {
  const server = pool.pick(x, tried) ?? (tried ? pool.pick(x, undefined) : undefined)
  if (!server) {
    respondError(x, 'no_server')
    return
  }
  x.server = server
  x.attempts++
  const t = pool.timeouts
  const handler = new Attempt(x, pool, server, body)
  // undici reads `servername` from dispatch options; its types omit it.
  const options: Dispatcher.DispatchOptions & { servername: string | undefined } = {
    path: x.path,
    method: x.req.method as Dispatcher.HttpMethod,
    headers: backendRequestHeaders(x, pool.hostHeader),
    body,
    headersTimeout: t.responseHeadersMs,
    bodyTimeout: t.bodyIdleMs,
    // One SNI name per server: undici would otherwise send each request's Host, and reconnect when it changes.
    servername: server.state.servername,
  }
  server.state.dispatcher.dispatch(options, handler)
}

/** One attempt at one server: the undici handler that copies the response to the client. */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #x: Exchange
  readonly #pool: Pool
  readonly #server: Server
  readonly #body: Readable | null
  readonly #sentAt = performance.now()
  #controller: Controller | undefined
  /** Where body chunks go: the client's response, or the first of the response phases' transforms. */
  #out: Writable
  #released = false
  #onAbort: (() => void) | undefined
  #onDrain: (() => void) | undefined
  /** gRPC status fields moved from the head of a Trailers-Only response, sent as trailers to an HTTP/2 client. */
  #statusTrailers: Record<string, string> | undefined

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
  }

  onResponseStart(controller: Controller, statusCode: number, _headers: unknown, statusMessage?: string): void {
    const x = this.#x
    x.backendMs = performance.now() - this.#sentAt
    x.status = statusCode
    const raw = controller.rawHeaders ?? []
    const headers = clientResponseHeaders(x, Array.isArray(raw) ? raw : flatHeaders(raw))
    if (x.req.httpVersionMajor === 2) this.#statusTrailers = trailersOnlyStatus(headers)
    this.#out = startResponse(x, statusCode, headers, statusMessage)
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
    const raw = controller.rawTrailers
    // Trailers pass only when the body is not transformed on its way.
    if (raw && this.#out === this.#x.res) {
      const trailers = Array.isArray(raw) ? raw : flatHeaders(raw)
      if (trailers.length > 0) this.#x.res.addTrailers(trailerFields(trailers))
    }
    if (this.#statusTrailers) this.#x.res.addTrailers(this.#statusTrailers)
    this.#out.end()
  }

  onResponseError(_controller: Controller, err: Error): void {
    this.#release(false)
    const x = this.#x
    const code = x.abort.signal.aborted ? 'client_aborted' : classify(err)
    if (!x.res.headersSent && this.#mayRetry(code)) {
      attempt(x, this.#pool, this.#body, this.#server)
      return
    }
    respondError(x, code)
  }

  #mayRetry(code: keyof typeof failures): boolean {
    const x = this.#x
    if (x.attempts > 1) return false
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

// RFC 9110 §9.2.2.
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

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
