import { Readable } from 'node:stream'
import type { H2Request } from '../engine/index.ts'
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
 * The stream of a request that has a body: node's HTTP/1.1 requests are their own body stream; a
 * request Portico's own HTTP/1.1 server read (engine/server/) carries its body apart; an HTTP/2
 * request's body stream cancels the exchange before it fails when the client cuts it.
 */
export function bodyStream(x: Exchange): Readable {
  if (x.isHttp2()) return x.req.body(x)
  const req = x.req as Exclude<Exchange['req'], H2Request>
  return req instanceof Readable ? req : (req.body ?? emptyBody())
}

/** An ended stream, for a request whose headers said it has a body that its server did not give it. */
function emptyBody(): Readable {
  return Readable.from([])
}
