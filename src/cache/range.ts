import { randomBytes } from 'node:crypto'
import { type ByteRange, parseRange } from '../http/range.ts'

// More ranges than this in one request are not served as ranges: the whole body goes instead
// (RFC 9110 §14.2 lets a server ignore Range; many small ranges cost more than the body).
const maxRanges = 16

/**
 * Reads a `Range` header for a body of `size` bytes (RFC 9110 §14.1.2): the satisfiable ranges in
 * the order asked, "unsatisfiable" when none is, undefined to send the whole body (not bytes, bad
 * syntax, too many ranges).
 */
export function byteRanges(header: string, size: number): ByteRange[] | 'unsatisfiable' | undefined {
  const m = /^bytes=(.+)$/.exec(header.trim())
  if (!m) return undefined
  const specs = m[1]!.split(',').map((s) => s.trim())
  if (specs.length > maxRanges) return undefined
  const out: ByteRange[] = []
  for (const spec of specs) {
    const range = parseRange(`bytes=${spec}`, size)
    if (range === undefined) return undefined
    if (range !== 'unsatisfiable') out.push(range)
  }
  return out.length === 0 ? 'unsatisfiable' : out
}

/** A 206 body for `ranges` of `body`: the bytes of a single range, or multipart/byteranges for several. */
export function rangeBody(
  body: Buffer,
  ranges: readonly ByteRange[],
  contentType: string | undefined,
): { body: Buffer; contentType: string | undefined; contentRange: string | undefined } {
  const size = body.length
  if (ranges.length === 1) {
    const r = ranges[0]!
    return { body: body.subarray(r.start, r.end + 1), contentType, contentRange: `bytes ${r.start}-${r.end}/${size}` }
  }
  const boundary = randomBytes(12).toString('hex')
  const parts: Buffer[] = []
  for (const r of ranges) {
    const type = contentType === undefined ? '' : `Content-Type: ${contentType}\r\n`
    parts.push(Buffer.from(`--${boundary}\r\n${type}Content-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`))
    parts.push(body.subarray(r.start, r.end + 1), Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return {
    body: Buffer.concat(parts),
    contentType: `multipart/byteranges; boundary=${boundary}`,
    contentRange: undefined,
  }
}

/** RFC 9110 §13.1.5: a Range applies when If-Range is absent, or names the stored strong ETag or its exact Last-Modified. */
export function ifRangeHolds(
  ifRange: string | undefined,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  if (ifRange === undefined) return true
  const value = ifRange.trim()
  if (value.startsWith('"')) return etag !== undefined && value === etag
  if (value.startsWith('W/')) return false
  return lastModified !== undefined && value === lastModified
}
