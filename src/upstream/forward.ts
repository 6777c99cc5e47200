import { pipeline, type Readable, type Transform, type Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { FailureCode } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders, clientResponseHeaders } from '../http/proxy-headers.ts'
import { respondError } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool, Ticket } from './pool.ts'
import { mayRetry } from './retry.ts'
import type { Server } from './server.ts'

type Controller = Dispatcher.DispatchController & { rawHeaders?: Buffer[]; rawTrailers?: Buffer[] }

/**
 * Sends the exchange to a server of `pool` and streams the response back with backpressure both
 * ways. `body` is the request body to send, or null for none. A failed attempt is retried on
 * another server only when the catalogue allows it, the body can be sent again, and nothing has
 * reached the client yet.
 */
export function forward(x: Exchange, pool: Pool, body: Readable | null): void {
  x.pool = pool
  pool.retries.budget.earn()
  pool.acquire(new Attempt(x, pool, body, undefined))
}

/**
 * One attempt at one server: waits for a server as the pool's ticket, then is the undici handler
 * that copies the response to the client.
 */
class Attempt implements Dispatcher.DispatchHandler, Ticket {
  readonly x: Exchange
  readonly tried: readonly Server[] | undefined
  readonly #x: Exchange
  #pool: Pool
  #server!: Server
  readonly #body: Readable | null
  #sentAt = 0
  #controller: Controller | undefined
  /** Where body chunks go: the client's response, or the first of the response phases' transforms. */
  #out: Writable
  #released = false
  #onAbort: (() => void) | undefined
  #onDrain: (() => void) | undefined

  constructor(x: Exchange, pool: Pool, body: Readable | null, tried: readonly Server[] | undefined) {
    this.x = x
    this.#x = x
    this.#pool = pool
    this.#body = body
    this.tried = tried
    this.#out = x.res
  }

  /** `pool` found a server (Ticket): sends the request there. */
  start(server: Server, pool: Pool): void {
    const x = this.#x
    this.#pool = pool
    x.pool = pool
    this.#server = server
    this.#sentAt = performance.now()
    x.server = server
    x.attempts++
    server.state.dispatcher.dispatch(
      {
        path: x.path,
        method: x.req.method as Dispatcher.HttpMethod,
        headers: backendRequestHeaders(x, pool.hostHeader),
        body: this.#body,
        headersTimeout: pool.retries.perTryMs,
        bodyTimeout: pool.timeouts.bodyIdleMs,
      },
      this,
    )
  }

  /** The pool has no server for this exchange (Ticket). */
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void {
    respondError(this.#x, code, headers)
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
    if (x.setCookie) headers.push('set-cookie', x.setCookie)
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
    this.#release(undefined)
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
    const x = this.#x
    const code = x.abort.signal.aborted ? 'client_aborted' : classify(err)
    this.#release(code)
    const pool = this.#pool
    if (x.attempts < pool.retries.attempts && mayRetry(x, code, this.#body) && pool.retries.budget.spend()) {
      pool.acquire(new Attempt(x, pool, this.#body, this.tried ? [...this.tried, this.#server] : [this.#server]))
      return
    }
    respondError(x, code)
  }

  #release(code: FailureCode | undefined): void {
    if (this.#released) return
    this.#released = true
    if (this.#onAbort) this.#x.abort.signal.removeEventListener('abort', this.#onAbort)
    const x = this.#x
    this.#pool.release(this.#server, {
      ok: code === undefined,
      code,
      status: x.status || undefined,
      latencyMs: x.backendMs >= 0 ? x.backendMs : undefined,
    })
  }
}

function ignore(): void {}
