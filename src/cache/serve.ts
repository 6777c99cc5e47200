import { type Duplex, Transform, type TransformCallback, type Writable } from 'node:stream'
import { respondError, startResponse } from '../answer/respond.ts'
import { writeRenderedResponseHead } from '../answer/response-head.ts'
import type { Exchange } from '../exchange.ts'
import { dropHeaders } from '../http/drop-headers.ts'
import type { ByteRange } from '../http/range.ts'
import { field, notModified } from './conditional.ts'
import type { Entry } from './memory-store.ts'
import { currentAge } from './policy.ts'
import { byteRanges, ifRangeHolds, rangeBody } from './range.ts'

/** Answers `x` with a stored response `e`: Age per RFC 9111 §4.2.3, the route's response phases run on it. */
export function serveStored(x: Exchange, e: Entry, collapsed: boolean, detail?: string): void {
  const age = Math.floor(currentAge(e, Date.now()))
  const ttl = Math.floor(e.lifetime - age)
  const cacheStatus =
    collapsed || detail
      ? `Portico; hit; ttl=${ttl}${collapsed ? '; collapsed' : ''}${detail ? `; detail=${detail}` : ''}`
      : `Portico; hit; ttl=${ttl}`
  x.cache = detail ? 'stale' : 'hit'
  const prepared = e.prepared
  const etag = prepared ? prepared.etag : field(e.headers, 'etag')
  const lastModified = prepared ? prepared.lastModified : field(e.headers, 'last-modified')
  const h = x.req.headers
  // RFC 9111 §4.3.2: a fresh entry answers the client's own conditional request.
  const conditional = h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined
  const range = h.range !== undefined && e.status === 200 && x.req.method === 'GET'
  // The head as prepared when stored, and the fields of this hit: the route's phases only hide fields.
  if (!conditional && !range && prepared?.fields) {
    const more = ['age', String(age), 'x-request-id', x.id, 'cache-status', cacheStatus]
    for (const names of prepared.hides) dropHeaders(more, names)
    if (writeRenderedResponseHead(x, e.status, prepared.fields, more, prepared.hsts)) {
      x.status = e.status
      sendBody(x, x.responseStream, e.body)
      return
    }
  }
  const headers = [...e.headers, 'age', String(age), 'x-request-id', x.id, 'cache-status', cacheStatus]
  if (conditional && e.status === 200 && notModified(h, etag, lastModified)) {
    startResponse(x, 304, withoutLength(headers)).end()
    return
  }
  if (range) {
    const wanted = ifRangeHolds(h['if-range'] as string | undefined, etag, lastModified)
      ? byteRanges(h.range!, e.body.length)
      : undefined
    if (wanted === 'unsatisfiable') {
      respondError(x, 'range_not_satisfiable', { 'content-range': `bytes */${e.body.length}` })
      return
    }
    if (wanted) {
      servePartial(x, headers, e.body, wanted)
      return
    }
  }
  sendBody(x, startResponse(x, e.status, headers), e.body)
}

/** Ends `out` with a stored body (none for HEAD), counted as `bytes_out`. */
function sendBody(x: Exchange, out: Writable, body: Buffer): void {
  if (x.req.method === 'HEAD' || body.length === 0) {
    out.end()
    return
  }
  x.bytesOut += body.length
  out.end(body)
}

/** Answers a range request from a stored body (RFC 9110 §14.2): 206 with one range, or multipart/byteranges. */
function servePartial(x: Exchange, headers: string[], body: Buffer, ranges: readonly ByteRange[]): void {
  const part = rangeBody(body, ranges, field(headers, 'content-type'))
  const head: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    if (name !== 'content-length' && name !== 'content-type') head.push(headers[i]!, headers[i + 1]!)
  }
  if (part.contentType !== undefined) head.push('content-type', part.contentType)
  if (part.contentRange !== undefined) head.push('content-range', part.contentRange)
  head.push('content-length', String(part.body.length))
  x.bytesOut += part.body.length
  startResponse(x, 206, head).end(part.body)
}

/** Replaces the response under way (head edited in place) with a stored one; returns the stream that sends its body. */
export function answerStored(x: Exchange, e: Entry, headers: string[], cacheStatus: string): Duplex {
  const age = Math.floor(currentAge(e, Date.now()))
  headers.length = 0
  headers.push(...e.headers, 'age', String(age), 'x-request-id', x.id, 'cache-status', cacheStatus)
  x.status = e.status
  x.cache = 'stale'
  x.bytesOut += e.body.length
  return new StoredBody(e.body)
}

/** The head of a 304: the stored one without the body's length (RFC 9110 §15.4.5). */
function withoutLength(headers: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'content-length') out.push(headers[i]!, headers[i + 1]!)
  }
  return out
}

/** Sends a stored body in place of the (empty) body of the response it stands for. */
class StoredBody extends Transform {
  readonly #body: Buffer

  constructor(body: Buffer) {
    super()
    this.#body = body
  }

  override _transform(_chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback()
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.#body.length > 0 ? this.#body : undefined)
  }
}
