import { type Duplex, pipeline, type Writable } from 'node:stream'
import { type FailureCode, failures } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { viaName } from './http/proxy-headers.ts'
import { http1Response, writeResponseHead } from './listen/response-head.ts'

/**
 * Answers the client from Portico itself: a short plain-text body, the request id, Via. Never names
 * a backend address or shows a stack. Does nothing when the response has already started.
 */
export function reply(x: Exchange, status: number, body: string, headers?: Record<string, string>): void {
  const res = x.res
  x.status = status
  if (res.headersSent || res.destroyed) return
  const payload = Buffer.from(body)
  writeResponseHead(x, status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': payload.length,
    'cache-control': 'no-store',
    via: `1.1 ${viaName}`,
    'x-request-id': x.id,
    ...headers,
  })
  x.bytesOut += payload.length
  if (x.req.method === 'HEAD') res.end()
  else res.end(payload)
}

/**
 * Ends an exchange that failed with `code`: sets the outcome and answers with the catalogue's
 * status. When the response has started, the connection is cut so that the client sees an aborted
 * response, never a truncated body presented as complete.
 */
export function respondError(x: Exchange, code: FailureCode, headers?: Record<string, string>): void {
  // A route's cache may answer with a stale copy instead (stale-if-error).
  if (x.route?.cache?.rescue(x, code)) return
  x.outcome = code
  const failure = failures[code]
  // Nobody to answer, or an answer already under way: cutting the connection is all that is left.
  if (failure.status === 0 || x.res.headersSent) {
    x.res.destroy()
    return
  }
  // A request refused for what the client sent may hide another request in its bytes: its
  // connection ends with the answer, as nginx does after a 400.
  const h1 = http1Response(x)
  if (failure.source === 'client' && h1) h1.shouldKeepAlive = false
  else closeIfBodyUnread(x)
  reply(x, failure.status, `${failure.text}\n`, headers)
}

/**
 * Marks the connection to close after this answer when the request has a body that was not read:
 * its bytes would otherwise be taken for the next request. A request without a body is not
 * `complete` yet while its 'request' event runs either, so the headers decide.
 */
export function closeIfBodyUnread(x: Exchange): void {
  const h = x.req.headers
  const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] ?? '0') !== '0'
  const h1 = http1Response(x)
  if (hasBody && !x.req.complete && h1) h1.shouldKeepAlive = false
}

/**
 * Starts a response to the client, from a backend or from Portico: runs the route's response
 * phases on the head (they may edit `headers`, a flat `[name, value, …]` list), writes the head,
 * and returns where the body goes: the response, or the first of the phases' transforms.
 */
export function startResponse(x: Exchange, status: number, headers: string[], reason?: string): Writable {
  const phases = x.route?.responsePhases
  let chain: Duplex[] | undefined
  // A phase may answer with another status by setting `x.status` (the cache turns the 304 of its
  // own revalidation into the stored response); the phases after it see that status.
  x.status = status
  if (phases) {
    for (const phase of phases) {
      const transform = phase.onResponse(x, x.status, headers)
      if (transform) (chain ??= []).push(transform)
    }
  }
  writeResponseHead(x, x.status, headers, x.status === status ? reason : undefined)
  // Portico's own HTTP/1.1 response is a legacy writable stream, as node's is: pipe() and pipeline() take it.
  const res = x.res as Writable
  if (!chain) return res
  pipeline([...chain, res], ignore)
  return chain[0]!
}

function ignore(): void {}
