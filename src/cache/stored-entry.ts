import type { Exchange } from '../exchange.ts'
import { field, updatedHead } from './conditional.ts'
import type { Entry } from './memory-store.ts'
import { type Stored, storable } from './policy.ts'
import { splitTags } from './purge.ts'
import type { CacheConfig } from './schema.ts'

/**
 * The entry a response becomes once its whole `body` is known. A hit states its length, whatever
 * framing the backend chose (`length` is the backend's Content-Length, if it sent one); its purge
 * tags are read from the route's `tagHeader`.
 */
export function storedEntry(s: Stored, body: Buffer, length: number | undefined, tagHeader: string): Entry {
  const head = length === undefined ? [...s.headers, 'content-length', String(body.length)] : s.headers
  const tagged = field(s.headers, tagHeader.toLowerCase())
  const tags = tagged === undefined ? [] : splitTags(tagged)
  return { ...s, headers: head, body, tags }
}

/**
 * The stored entry `e` after the backend answered its revalidation with a 304 whose head is
 * `headers`: its head updated (RFC 9111 §3.2) with its new freshness; undefined when the updated
 * response may no longer be stored.
 */
export function revalidatedEntry(
  x: Exchange,
  e: Entry,
  headers: readonly string[],
  config: CacheConfig,
): Entry | undefined {
  const s = storable(x, e.status, updatedHead(e.headers, headers), config)
  if (typeof s === 'string') return undefined
  return {
    ...s,
    headers: field(s.headers, 'content-length') ? s.headers : [...s.headers, 'content-length', String(e.body.length)],
    body: e.body,
    tags: e.tags,
  }
}

/** The Content-Length of a flat `[name, value, …]` head, or undefined when it has none. */
export function contentLength(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'content-length') return Number(headers[i + 1])
  }
  return undefined
}
