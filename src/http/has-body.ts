import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
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
 * The stream of a request that has a body: always one of node's requests, since Portico's own
 * HTTP/1.1 server (engine/server/) serves only requests without one.
 */
export function bodyStream(x: Exchange): IncomingMessage | Http2ServerRequest {
  return x.req as IncomingMessage | Http2ServerRequest
}
