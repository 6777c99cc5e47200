import { ServerResponse } from 'node:http'
import type { Writable } from 'node:stream'
import type { Exchange } from '../../exchange.ts'
import { viaName } from '../../http/proxy-headers.ts'
import { startResponse } from '../../respond.ts'

/**
 * Starts an answer that Portico makes itself for a route (redirect, fixed answer, static file):
 * adds Via and the request id to `headers` (flat `[name, value, …]`), runs the route's response
 * phases on the head as a backend's answer would, writes the head, and returns where the body goes
 * (the response, or the first of the phases' transforms). The access log covers it as any other.
 */
export function startReply(x: Exchange, status: number, headers: string[]): Writable {
  const res = x.res
  x.status = status
  headers.push('via', `1.1 ${viaName}`, 'x-request-id', x.id)
  // A request body that was not read leaves the connection unusable for another request. (A request
  // without one is not `complete` yet either while its 'request' event runs, so ask the headers.)
  const h = x.req.headers
  const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] ?? '0') !== '0'
  if (hasBody && !x.req.complete && res instanceof ServerResponse) res.shouldKeepAlive = false
  return startResponse(x, status, headers)
}

/** Answers with a whole body at once: the head through startReply, then the body (none for HEAD). */
export function localReply(x: Exchange, status: number, headers: string[], body: string): void {
  const payload = Buffer.from(body)
  headers.push('content-length', String(payload.length))
  const out = startReply(x, status, headers)
  if (x.req.method === 'HEAD') {
    out.end()
    return
  }
  x.bytesOut += payload.length
  out.end(payload)
}
