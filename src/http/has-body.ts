import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import type { Exchange } from '../exchange.ts'

/**
 * Whether the request carries a body (RFC 9112 §6.3): a Content-Length above 0, chunked framing,
 * or an HTTP/2 request whose HEADERS frame did not end its stream.
 */
export function hasBody(x: Exchange): boolean {
  const h = x.req.headers
  if (h['transfer-encoding'] !== undefined) return true
  const length = h['content-length']
  if (length !== undefined) return length !== '0'
  return x.h2 !== undefined && !x.h2.endAfterHeaders
}

/**
 * The stream of a request that has a body: node's HTTP/1.1 request (Portico's own HTTP/1.1 server,
 * engine/server/, serves only requests without one), or an HTTP/2 request's body stream, which
 * cancels the exchange before it fails when the client cuts it.
 */
export function bodyStream(x: Exchange): IncomingMessage | Readable {
  return x.isHttp2() ? x.req.body(x) : (x.req as IncomingMessage)
}
