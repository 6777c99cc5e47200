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
  return x.req.httpVersionMajor === 2 && !(x.req as Http2ServerRequest).stream.endAfterHeaders
}
