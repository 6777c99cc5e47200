import { createRequire } from 'node:module'
import type { ConnectionOptions } from 'node:tls'
import type { Client, Dispatcher, Pool } from 'undici'
import { flatHeaders } from '../http/proxy-headers.ts'
import { eventsInOrder } from './h2-event-order.ts'
import { cancelStreamsSafely } from './h2-stream-cancel.ts'
import type { ConnectionSettings } from './server-registry.ts'
import { socketReuse } from './socket-reuse.ts'
import type { HeaderRecord, OutgoingRequest, RequestControl, ResponseReceiver, ServerConnections } from './transport.ts'

// HTTP/2 streams one connection carries at once, before undici opens another (undici's default).
const h2Streams = 100

// undici is loaded only when a pool speaks HTTP/2 to its servers: the rest of the time its code
// and memory are not needed.
let undici: typeof import('undici') | undefined
const load = () => {
  // undici aborts a stream by closing it and then destroying it, which freezes node when the
  // request body is still queued, and misses body bytes node emits out of order (before the
  // response, or after the trailers); every stream it opens is guarded against all of it first.
  cancelStreamsSafely()
  eventsInOrder()
  return (undici ??= createRequire(import.meta.url)('undici') as typeof import('undici'))
}

/**
 * HTTP/2 connections to one server (h2 by ALPN over TLS, where the server may still pick
 * HTTP/1.1; h2c with prior knowledge without TLS), through undici: an implementation of the transport contract (transport.ts).
 */
export function undiciConnections(
  origin: string,
  settings: ConnectionSettings,
  tls: ConnectionOptions | undefined,
): { dispatcher: ServerConnections; fresh: () => ServerConnections } {
  const { Client, Pool } = load()
  const connection = {
    connectTimeout: settings.connectTimeoutMs,
    strictContentLength: true,
    // undici offers h2 by ALPN on every TLS connection unless told not to.
    allowH2: tls !== undefined,
    // undici reads `useH2c` at the top level; its types list it only under h2Options.
    ...{ useH2c: tls === undefined },
    connect: tls,
  }
  const servername = settings.tls?.servername
  const pool = new Pool(origin, {
    ...connection,
    connections: settings.maxConnections,
    keepAliveTimeout: settings.keepAliveIdleMs,
    // A server's own `Keep-Alive: timeout=` may shorten, never lengthen, the idle time (USERS #1).
    keepAliveMaxTimeout: settings.keepAliveIdleMs,
    pipelining: h2Streams,
  })
  return {
    dispatcher: new UndiciConnections(pool, servername, false),
    // The retry after a stale connection goes on a connection of its own, which must not meet another idle one.
    fresh: () => new UndiciConnections(new Client(origin, connection), servername, true),
  }
}

class UndiciConnections implements ServerConnections {
  readonly #dispatcher: Pool | Client
  readonly #servername: string | undefined
  readonly #once: boolean

  constructor(dispatcher: Pool | Client, servername: string | undefined, once: boolean) {
    this.#dispatcher = dispatcher
    this.#servername = servername
    this.#once = once
  }

  dispatch(request: OutgoingRequest, receiver: ResponseReceiver): boolean {
    const options = {
      ...request,
      // One SNI name per server: undici would otherwise send each request's Host, and reconnect when it changes.
      servername: this.#servername,
      // A connection of its own serves this one request.
      reset: this.#once,
    } as Dispatcher.DispatchOptions
    return this.#dispatcher.dispatch(options, new UndiciRequest(receiver))
  }

  close(): Promise<void> {
    return this.#dispatcher.close()
  }

  destroy(): Promise<void> {
    return this.#dispatcher.destroy()
  }

  get stats() {
    const s = this.#dispatcher.stats as { running?: number; pending?: number; queued?: number }
    return { running: s.running ?? 0, pending: s.pending ?? 0, queued: s.queued ?? 0 }
  }
}

// What undici's controller tells of a response's fields: a flat list over HTTP/1.1, an object over HTTP/2.
type UndiciFields = Dispatcher.DispatchController['rawHeaders']

/**
 * One request through undici: its dispatch handler, which passes undici's callbacks on to the
 * receiver in the transport contract's terms, and the receiver's {@link RequestControl}.
 */
class UndiciRequest implements Dispatcher.DispatchHandler, RequestControl {
  readonly #receiver: ResponseReceiver
  #controller: Dispatcher.DispatchController | undefined = undefined
  /** Set by socket-reuse.ts before the first response callback. */
  reused = false
  // undici does not say whether a byte of the request was written: the safe answer is yes.
  readonly written = true

  constructor(receiver: ResponseReceiver) {
    this.#receiver = receiver
  }

  get rawHeaders(): readonly (Buffer | string)[] | undefined {
    return flat(this.#controller?.rawHeaders)
  }

  get rawTrailers(): readonly (Buffer | string)[] | undefined {
    return flat(this.#controller?.rawTrailers)
  }

  abort(reason: Error): void {
    this.#controller?.abort(reason)
  }

  pause(): void {
    this.#controller?.pause()
  }

  resume(): void {
    this.#controller?.resume()
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    this.#receiver.onRequestStart?.(this)
    // Only a request that goes on is written: then undici says on which socket (socket-reuse.ts).
    if (!controller.aborted) socketReuse(this)
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: HeaderRecord,
    statusMessage?: string,
  ): void {
    this.#receiver.onResponseStart?.(this, statusCode, headers, statusMessage)
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#receiver.onResponseData?.(this, chunk)
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: HeaderRecord): void {
    this.#receiver.onResponseEnd?.(this, trailers)
  }

  onResponseError(controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#controller ??= controller
    this.#receiver.onResponseError?.(controller === undefined ? undefined : this, error)
  }
}

function flat(fields: UndiciFields): readonly (Buffer | string)[] | undefined {
  if (fields === null || fields === undefined) return undefined
  return Array.isArray(fields) ? fields : flatHeaders(fields as HeaderRecord)
}
