import type { Writable } from 'node:stream'
import type { Exchange } from '../../exchange.ts'
import { viaName } from '../../http/proxy-headers.ts'
import { closeIfBodyUnread, startResponse } from '../../respond.ts'

/**
 * Starts an answer that Portico makes itself for a route (redirect, fixed answer, static file):
 * adds Via and the request id to `headers` (flat `[name, value, …]`), runs the route's response
 * phases on the head as a backend's answer would, writes the head, and returns where the body goes
 * (the response, or the first of the phases' transforms). The access log covers it as any other.
 */
export function startReply(x: Exchange, status: number, headers: string[]): Writable {
  x.status = status
  headers.push('via', `1.1 ${viaName}`, 'x-request-id', x.id)
  closeIfBodyUnread(x)
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
  // Through response transforms, the bytes that come out of them count instead.
  if (out === x.res) x.bytesOut += payload.length
  out.end(payload)
}
