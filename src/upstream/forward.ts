import { type Duplex, pipeline, type Readable, type Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders, clientResponseHeaders } from '../http/proxy-headers.ts'
import { respondError } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool } from './pool.ts'
import type { Server } from './server.ts'

type Controller = Dispatcher.DispatchController & { rawHeaders?: Buffer[]; rawTrailers?: Buffer[] }

/**
 * Sends the exchange to a server of `pool` and streams the response back with backpressure both
 * ways. `body` is the request body to send, or null for none. A failed attempt is retried on
 * another server only when the catalogue allows it, the body can be sent again (it was not read
 * yet, or `x.body` can replay it), and nothing has reached the client yet.
 */
export function forward(x: Exchange, pool: Pool, body: Readable | Buffer | null): void {
  x.pool = pool
  attempt(x, pool, body, undefined)
}

function attempt(x: Exchange, pool: Pool, body: Readable | Buffer | null, tried: Server | undefined): void {
  const server = pool.pick(x, tried) ?? (tried ? pool.pick(x, undefined) : undefined)
  if (!server) {
    respondError(x, 'no_server')
    return
  }
  x.server = server
  x.attempts++
  const t = pool.timeouts
  const handler = new Attempt(x, pool, server, body)
  const headers = backendRequestHeaders(x, pool.hostHeader)
  x.body?.fitHeaders(headers)
  server.state.dispatcher.dispatch(
    {
      path: x.path,
      method: x.req.method as Dispatcher.HttpMethod,
      headers,
      body,
      headersTimeout: t.responseHeadersMs,
      bodyTimeout: t.bodyIdleMs,
    },
    handler,
  )
}

/** One attempt at one server: the undici handler that copies the response to the client. */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #x: Exchange
  readonly #pool: Pool
  readonly #server: Server
  readonly #body: Readable | Buffer | null
  readonly #sentAt = performance.now()
  #controller: Controller | undefined
  /** Where body chunks go: the client's response, or the first of the response phases' transforms. */
  #out: Writable
  #released = false
  #onAbort: (() => void) | undefined
  #onDrain: (() => void) | undefined

  constructor(x: Exchange, pool: Pool, server: Server, body: Readable | Buffer | null) {
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
    const headers = clientResponseHeaders(x, controller.rawHeaders ?? [])
    const phases = x.route?.responsePhases
    let chain: Duplex[] | undefined
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
    const code = x.abort.signal.aborted ? 'client_aborted' : classify(err)
    if (!x.res.headersSent && this.#mayRetry(code)) {
      attempt(x, this.#pool, x.body?.replayable ? x.body.open() : this.#body, this.#server)
      return
    }
    respondError(x, code)
  }

  #mayRetry(code: keyof typeof failures): boolean {
    const x = this.#x
    if (x.attempts > 1) return false
    const rule = failures[code].retry
    if (rule === 'never') return false
    // A request body that has been read in part cannot be sent again, unless it was kept whole.
    const fresh = this.#body === null || x.body?.replayable === true
    if (!fresh && rule !== 'always') return false
    if (rule === 'always') return fresh || (this.#body as Readable).readableDidRead === false
    return idempotent.has(x.req.method ?? '')
  }

  #release(ok: boolean): void {
    if (this.#released) return
    this.#released = true
    this.#x.backendHeldMs = performance.now() - this.#sentAt
    if (this.#onAbort) this.#x.abort.signal.removeEventListener('abort', this.#onAbort)
    this.#pool.release(this.#server, { ok, latencyMs: this.#x.backendMs >= 0 ? this.#x.backendMs : undefined })
  }
}

// RFC 9110 §9.2.2.
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

function ignore(): void {}
