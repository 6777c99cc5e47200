import type { IncomingHttpHeaders } from 'node:http'

/** Whether the client's own `If-None-Match` / `If-Modified-Since` are met by a stored head, so a 304 answers (RFC 9110 §13.1). */
export function notModified(
  h: IncomingHttpHeaders,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  const inm = h['if-none-match']
  if (inm !== undefined) {
    if (etag === undefined) return false
    if (inm.trim() === '*') return true
    // Weak comparison (RFC 9110 §8.8.3.2): W/ prefixes do not count.
    const want = weak(etag)
    return inm.split(',').some((tag) => weak(tag.trim()) === want)
  }
  const ims = h['if-modified-since']
  if (ims === undefined || lastModified === undefined) return false
  const since = Date.parse(ims)
  const modified = Date.parse(lastModified)
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since
}

/** Whether the client sent a conditional of its own; then the cache does not add its own validators. */
export function hasConditional(h: IncomingHttpHeaders): boolean {
  return (
    h['if-none-match'] !== undefined ||
    h['if-modified-since'] !== undefined ||
    h['if-match'] !== undefined ||
    h['if-unmodified-since'] !== undefined ||
    h['if-range'] !== undefined
  )
}

/** The value of `name` in a flat `[name, value, …]` list (lower-case `name`), or undefined. */
export function field(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1]
  return undefined
}

// Never taken from a 304 into the stored head (RFC 9111 §3.2): the stored body's length, and what is never stored.
const kept = new Set(['content-length', 'set-cookie', 'x-request-id', 'via', 'age'])

/** The stored head updated with the fields of a 304 (RFC 9111 §3.2): each field it sends replaces the stored ones. */
export function updatedHead(stored: readonly string[], fresh: readonly string[]): string[] {
  const replaced = new Set<string>()
  for (let i = 0; i < fresh.length; i += 2) {
    const name = fresh[i]!.toLowerCase()
    if (!kept.has(name)) replaced.add(name)
  }
  const out: string[] = []
  for (let i = 0; i < stored.length; i += 2) {
    if (!replaced.has(stored[i]!.toLowerCase())) out.push(stored[i]!, stored[i + 1]!)
  }
  for (let i = 0; i < fresh.length; i += 2) {
    if (replaced.has(fresh[i]!.toLowerCase())) out.push(fresh[i]!, fresh[i + 1]!)
  }
  return out
}

function weak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}
