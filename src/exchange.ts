import { type IncomingMessage, ServerResponse } from 'node:http'
import type { ServerHttp2Stream } from 'node:http2'
import type { Readable, Writable } from 'node:stream'
import type { H1Request, H1Response, H2Request, H2Response } from './engine/index.ts'
import type { FailureCode, Outcome } from './errors.ts'
import { plainAddress } from './http/forwarded.ts'
import { hostName } from './http/host-name.ts'
import { isValidRequestId, newRequestId } from './http/request-id.ts'
import { type TraceContext, traceContext } from './http/trace-context.ts'
import type { PathRules } from './route/routing-path.ts'
import type { Route } from './route/table.ts'
import type { TlsFacts } from './tls/facts.ts'
import type { Pool } from './upstream/pool/pool.ts'
import type { Server } from './upstream/server.ts'

/** Facts about the listener an exchange arrived on. */
export interface Arrival {
  /** Whether the client connection is TLS. */
  readonly secure: boolean
  /** Whether the connection comes from a trusted proxy, whose forwarding headers are kept. */
  readonly trusted: boolean
  /** The client a trusted PROXY protocol header named; the socket's peer when absent. */
  readonly peer?: { readonly address: string; readonly port: number }
  /** What the TLS connection negotiated; undefined on plain connections. */
  readonly tls?: TlsFacts | undefined
  /** The listener's Strict-Transport-Security value, when it sends one. */
  readonly hsts?: string | undefined
  /** The listener's state, which it changes while the exchange runs. */
  readonly listener: ListenerStatus
  /** How the listener normalises request paths. */
  readonly paths: PathRules
  /** Whether the listener passes on header fields whose names contain `_`. */
  readonly underscoresInHeaders: boolean
}

/** What a listener tells the exchanges it took, as it changes. */
export interface ListenerStatus {
  /** Whether it is draining: HTTP/1.1 responses whose head is not out yet close their connection. */
  readonly draining: boolean
  /** Connections whose next HTTP/1.1 response closes them (see Listener.rebalance); undefined while there are none. */
  readonly retired?: WeakSet<object>
}

/**
 * A client request: HTTP/1.1 read by node's server or by Portico's own (engine/server/: no body, or
 * one of a Content-Length), or HTTP/2 read through node's stream API (engine/h2/).
 */
export type ClientRequest = IncomingMessage | H1Request | H2Request

/** The response to a client request, of the same kind. */
export type ClientResponse = ServerResponse | H1Response | H2Response

/** An exchange whose client speaks HTTP/1.x: node's request and response, or Portico's own. */
export type Http1Exchange = Exchange & {
  readonly req: IncomingMessage | H1Request
  readonly res: ServerResponse | H1Response
  readonly h2: undefined
}

/** An exchange whose client speaks HTTP/2: Portico's request and response on one of node's streams. */
export type Http2Exchange = Exchange & {
  readonly req: H2Request
  readonly res: H2Response
  readonly h2: ServerHttp2Stream
}

/**
 * An exchange for a request node's HTTP/1.1 parser handed over with its socket (`Upgrade`, or
 * CONNECT): node's request, and a node response made for it, which writes to the socket until a
 * tunnel takes the socket over.
 */
export type UpgradeExchange = Exchange & {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly h2: undefined
}

/**
 * A request body that a request phase took over from the client's stream (decoded, or read whole
 * first); `Exchange.body` holds it and the forwarder sends it in the client's stead.
 */
export interface RequestBody {
  /** The body for one attempt: its bytes, or a fresh stream of them. */
  open(): Buffer | Readable
  /** Whether `open()` may be called again, so that a failed attempt can be retried with the whole body. */
  readonly replayable: boolean
  /** Fits the header list for the backend (`[name, value, …]`) to this body, e.g. its Content-Length. */
  fitHeaders(headers: string[]): void
}

/**
 * One request/response pair and everything known about it. Phases read and write it; nothing else
 * carries per-request state, so phases can be shared between concurrent requests.
 */
export class Exchange {
  readonly req: ClientRequest
  readonly res: ClientResponse
  /**
   * The client's HTTP/2 stream; undefined over HTTP/1.x. The one place the protocol shows: code that
   * must act on the stream (its reset code, whether its HEADERS frame ended it) asks this, not the version.
   */
  readonly h2: ServerHttp2Stream | undefined
  /** `performance.now()` when the request head was parsed. */
  readonly start: number
  readonly id: string
  /** The address this connection is from: the socket's peer, or the client a trusted PROXY header named. */
  readonly peerAddress: string
  /**
   * The client's address (IPv4 as plain dotted quad): the peer's, or, through trusted proxies, the
   * one their X-Forwarded-For or Forwarded gives (set while routing, see http/client-address.ts).
   */
  clientAddress: string
  readonly clientPort: number
  /** The client's ISO 3166 country code from the geo database, "" when unknown. */
  country = ''
  /** Captures of the matched route's host and path regexes, by name (and number for the path). */
  captures: Record<string, string> | undefined = undefined
  readonly secure: boolean
  readonly trusted: boolean
  /** What the TLS connection negotiated (version, cipher, SNI, ALPN, client subject); undefined on plain ones. */
  readonly tls: TlsFacts | undefined
  /** The Strict-Transport-Security value every response head gets, unless it has its own; undefined for none. */
  readonly hsts: string | undefined
  /** The listener it arrived on, as it is now: draining or not. */
  readonly listener: ListenerStatus
  /** How its listener normalises request paths (`paths`). */
  readonly paths: PathRules
  /** Whether its listener passes on header fields whose names contain `_`. */
  readonly underscoresInHeaders: boolean
  /** The Host header value (or the authority of an absolute-form target), as received. */
  authority: string
  /**
   * The request target in origin form (`/path?query`): as sent until routing, then normalised
   * (route/routing-path.ts), and rewritten by the route if it says so. The backend receives it.
   */
  path: string
  route: Route | undefined = undefined
  pool: Pool | undefined = undefined
  server: Server | undefined = undefined
  /** How many times a server was tried. */
  attempts = 0
  /** The failure that led to the last retry, or undefined when nothing was retried. */
  retried: FailureCode | undefined = undefined
  /** The failure behind each retry, in order, for metrics; undefined when nothing was retried. */
  retries: FailureCode[] | undefined = undefined
  status = 0
  outcome: Outcome = 'ok'
  bytesIn = 0
  bytesOut = 0
  /** Milliseconds from the last dispatch to the backend's response headers; -1 when none came. */
  backendMs = -1
  /** Milliseconds spent waiting in the pool's queue; -1 when the exchange did not wait. */
  queueMs = -1
  /** Requests already waiting in the pool's queue when this one joined it. */
  queueDepth = 0
  /** Headers for the answer a request phase ends the exchange with (a 429's Retry-After); undefined for none. */
  answerHeaders: Record<string, string> | undefined = undefined
  /**
   * What the route's rate limits let through, for the RateLimit-Policy and RateLimit headers of the
   * answer (filters/ratelimit/headers.ts): one `"name";q=…;w=…` and one `"name";r=…;t=…` per limit.
   * Undefined when no limit advertises itself.
   */
  rateLimits: [policy: string, state: string][] | undefined = undefined
  /** A `Set-Cookie` value Portico adds to the response: the sticky-session cookie. */
  setCookie: string | undefined = undefined
  /** The request body as a request phase replaced it; undefined: the client's own stream is sent. */
  body: RequestBody | undefined = undefined
  /** What the route's firewall found (rule ids, variables, cut fragments) for the access log; '' for nothing. */
  waf = ''
  /** Whether the request body was read whole before a server was chosen. */
  requestBuffered = false
  /** Whether the response was read at the backend's pace and held for the client. */
  responseBuffered = false
  /** What the route's cache did: `hit`, `stale`, `miss`, `bypass` or `purge`; "" when the route does not cache. */
  cache = ''
  /** Bytes of this exchange written to temporary files (request and response). */
  spilledBytes = 0
  /** Milliseconds from the last dispatch until its backend connection was released; -1 when none was. */
  backendHeldMs = -1
  /**
   * A response whose head is held until its first body byte goes out (see startResponse); undefined
   * when none is, or once the head went out.
   */
  held: HeldResponse | undefined = undefined
  /** The backend request under way, told to stop when the exchange is cancelled. */
  attempt: Cancellable | undefined = undefined
  #abort: AbortController | undefined = undefined
  #cancelled = false
  #host: string | undefined = undefined
  #trace: TraceContext | undefined = undefined

  constructor(req: ClientRequest, res: ClientResponse, arrival: Arrival) {
    this.req = req
    this.res = res
    this.h2 = req.httpVersionMajor === 2 ? (req as H2Request).stream : undefined
    this.start = performance.now()
    this.secure = arrival.secure
    this.trusted = arrival.trusted
    this.tls = arrival.tls
    this.hsts = arrival.hsts
    this.listener = arrival.listener
    this.paths = arrival.paths
    this.underscoresInHeaders = arrival.underscoresInHeaders
    const socket = req.socket
    const peer = arrival.peer
    this.peerAddress = peer?.address ?? socket.remoteAddress ?? ''
    this.clientAddress = plainAddress(this.peerAddress)
    this.clientPort = peer?.port ?? socket.remotePort ?? 0
    const given = arrival.trusted ? req.headers['x-request-id'] : undefined
    this.id = typeof given === 'string' && isValidRequestId(given) ? given : newRequestId()
    // HTTP/2 carries the authority in `:authority`; a Host header, when also sent, must agree (RFC 9113 §8.3.1).
    this.authority = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? ''
    this.path = req.url ?? '/'
  }
  /** Whether the client speaks HTTP/1.x: then its request and response are HTTP/1.1 ones (node's or Portico's own). */
  isHttp1(): this is Http1Exchange {
    return this.h2 === undefined
  }

  /**
   * Where the response body is written: node's HTTP/1.1 response, Portico's own (a legacy writable
   * stream that pipe() and pipeline() take alike), or over HTTP/2 the client's stream itself,
   * once `res` has written the head.
   */
  get responseStream(): Writable {
    return (this.h2 ?? this.res) as Writable
  }

  /** Whether the client speaks HTTP/2: then its request and response are Portico's own on node's stream (engine/h2/). */
  isHttp2(): this is Http2Exchange {
    return this.h2 !== undefined
  }

  /**
   * Host name the request is for, lower case, without port. Taken from `authority` when first read:
   * only host conditions, templates and the log read it.
   */
  get host(): string {
    this.#host ??= hostName(this.authority)
    return this.#host
  }

  set host(name: string) {
    this.#host = name
  }

  /**
   * The exchange's W3C trace context: the client's `traceparent` continued with a span of
   * Portico's own, or a new trace. Made on first read: by the forwarder and the access log.
   */
  get trace(): TraceContext {
    this.#trace ??= traceContext(this.req.headers)
    return this.#trace
  }

  /**
   * Signals the end of all work for this exchange to whatever waits on it (a queued request).
   * Made on first use: most exchanges are never waited on, and never aborted.
   */
  get abort(): AbortController {
    if (this.#abort) return this.#abort
    this.#abort = new AbortController()
    if (this.#cancelled) this.#abort.abort()
    return this.#abort
  }

  /** Whether the exchange was cancelled: its client is gone. */
  get cancelled(): boolean {
    return this.#cancelled || this.#abort?.signal.aborted === true
  }

  /** Ends all work for this exchange, once its client is gone: the backend request under way, and whatever waits. */
  cancel(): void {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#abort?.abort()
    this.attempt?.cancel()
  }
}

/** A response head not yet sent, and the body transforms behind it. */
export interface HeldResponse {
  /** Sends the head now: the first body byte or the end follows. */
  send(): void
  /** Drops the head and the body transforms, unsent: the exchange is answered otherwise. */
  discard(): void
}

/** Work for an exchange that can be stopped half way, such as a backend request. */
export interface Cancellable {
  cancel(): void
}

/** The exchange for an upgrade request node's server handed over with its socket; its response is made here. */
export function upgradeExchange(req: IncomingMessage, arrival: Arrival): UpgradeExchange {
  // The one place the kinds are paired by construction: a node request and the node response made for it.
  return new Exchange(req, new ServerResponse(req), arrival) as UpgradeExchange
}
