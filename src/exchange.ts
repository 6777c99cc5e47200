import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Outcome } from './errors.ts'
import { isValidRequestId, newRequestId } from './http/request-id.ts'
import type { Route } from './route/table.ts'
import type { Pool } from './upstream/pool.ts'
import type { Server } from './upstream/server.ts'

/** Facts about the listener an exchange arrived on. */
export interface Arrival {
  /** Whether the client connection is TLS. */
  readonly secure: boolean
  /** Whether the connection comes from a trusted proxy, whose forwarding headers are kept. */
  readonly trusted: boolean
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
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** `performance.now()` when the request head was parsed. */
  readonly start: number
  readonly id: string
  readonly clientAddress: string
  readonly clientPort: number
  readonly secure: boolean
  readonly trusted: boolean
  /** Host name the request is for, lower case, without port. */
  host: string
  /** The Host header value (or the authority of an absolute-form target), as received. */
  authority: string
  /** The request target in origin form (`/path?query`). */
  path: string
  route: Route | undefined = undefined
  pool: Pool | undefined = undefined
  server: Server | undefined = undefined
  /** How many times a server was tried. */
  attempts = 0
  status = 0
  outcome: Outcome = 'ok'
  bytesIn = 0
  bytesOut = 0
  /** Milliseconds from the last dispatch to the backend's response headers; -1 when none came. */
  backendMs = -1
  /** The request body as a request phase replaced it; undefined: the client's own stream is sent. */
  body: RequestBody | undefined = undefined
  /** Whether the request body was read whole before a server was chosen. */
  requestBuffered = false
  /** Whether the response was read at the backend's pace and held for the client. */
  responseBuffered = false
  /** Bytes of this exchange written to temporary files (request and response). */
  spilledBytes = 0
  /** Milliseconds from the last dispatch until its backend connection was released; -1 when none was. */
  backendHeldMs = -1
  /** Aborts all work for this exchange: client gone, timeout, shutdown. */
  readonly abort = new AbortController()

  constructor(req: IncomingMessage, res: ServerResponse, arrival: Arrival) {
    this.req = req
    this.res = res
    this.start = performance.now()
    this.secure = arrival.secure
    this.trusted = arrival.trusted
    const socket = req.socket
    this.clientAddress = socket.remoteAddress ?? ''
    this.clientPort = socket.remotePort ?? 0
    const given = arrival.trusted ? req.headers['x-request-id'] : undefined
    this.id = typeof given === 'string' && isValidRequestId(given) ? given : newRequestId()
    this.authority = req.headers.host ?? ''
    this.host = hostName(this.authority)
    this.path = req.url ?? '/'
  }
}

/** `Example.COM:8080` → `example.com`; `[::1]:80` → `[::1]`. */
export function hostName(authority: string): string {
  const end = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':')
  return (end > 0 ? authority.slice(0, end) : authority).toLowerCase()
}
