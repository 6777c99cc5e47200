import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { H1Body } from './request-body.ts'

/**
 * A request read by Portico's own HTTP/1.1 server: the parts of node's `IncomingMessage` the
 * pipeline reads, with its header record built by node's rules. Its body, when it has one, is a
 * stream apart ({@link body}).
 */
export class H1Request {
  readonly method: string
  /** The request target as sent. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** Flat `[name, value, …]`, as received. */
  readonly rawHeaders: string[]
  readonly httpVersion = '1.1'
  readonly httpVersionMajor = 1
  readonly httpVersionMinor = 1
  readonly socket: Socket
  /** The body (of the length its Content-Length says); undefined when the request has none. */
  readonly body: H1Body | undefined

  constructor(socket: Socket, method: string, url: string, rawHeaders: string[], body?: H1Body) {
    this.socket = socket
    this.method = method
    this.url = url
    this.rawHeaders = rawHeaders
    this.headers = headerRecord(rawHeaders)
    this.body = body
  }

  /** Whether the whole request has been received, body included. */
  get complete(): boolean {
    return this.body === undefined || this.body.received
  }

  get destroyed(): boolean {
    return this.socket.destroyed
  }
}

// Fields node keeps only the first of when repeated, since a second one is meaningless or dangerous.
const firstOnly = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
])

/**
 * The header record node's `IncomingMessage.headers` holds for `raw`: names in lower case, a
 * repeated field joined with ", " (Cookie with "; "), Set-Cookie as a list, and only the first of
 * the fields in `firstOnly`.
 */
export function headerRecord(raw: readonly string[]): IncomingHttpHeaders {
  const record: Record<string, string | string[] | undefined> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    const value = raw[i + 1]!
    const prior = record[name]
    if (name === 'set-cookie') {
      if (prior === undefined) record[name] = [value]
      else (prior as string[]).push(value)
    } else if (firstOnly.has(name)) {
      if (prior === undefined) record[name] = value
    } else {
      record[name] = typeof prior === 'string' ? `${prior}${name === 'cookie' ? '; ' : ', '}${value}` : value
    }
  }
  return record as IncomingHttpHeaders
}
