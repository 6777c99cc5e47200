import type { Exchange } from '../exchange.ts'
import { cookieValue } from '../http/cookie-value.ts'
import { field } from './conditional.ts'
import { directives } from './directives.ts'
import type { Entry } from './memory-store.ts'
import type { CacheConfig } from './schema.ts'

// What a request asks of a route's cache, and what the cache adds to the request it sends on.

// RFC 9110 §9.2.1: the safe methods; a successful request with any other invalidates (RFC 9111 §4.4).
export const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

const none = new Map<string, string | true>()

const noCache = new Map<string, string | true>([['no-cache', true]])

/** The request's Cache-Control, or none when the route ignores it; Pragma: no-cache stands in when it has none (RFC 9111 §5.4). */
export function requestDirectives(x: Exchange, config: CacheConfig): Map<string, string | true> {
  if (config.ignore_client_cache_control) return none
  const h = x.req.headers
  if (h['cache-control'] !== undefined) return directives(h['cache-control'])
  const pragma = h.pragma
  return pragma !== undefined && /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(pragma) ? noCache : none
}

/** Whether the route's `bypass` rules send this request past the cache. */
export function bypassed(x: Exchange, config: CacheConfig): boolean {
  if (!config.methods.includes(x.req.method as 'GET')) return true
  const b = config.bypass
  for (const name of b.headers) if (x.req.headers[name.toLowerCase()] !== undefined) return true
  if (b.cookies.length === 0) return false
  const cookie = x.req.headers.cookie
  return cookie !== undefined && b.cookies.some((name) => cookieValue(cookie, name) !== undefined)
}
/** Adds the cache's own validators to the request sent to the backend; false when the entry has none. */
export function addValidators(x: Exchange, e: Entry): boolean {
  const etag = field(e.headers, 'etag')
  const lastModified = field(e.headers, 'last-modified')
  if (etag === undefined && lastModified === undefined) return false
  // The backend request is built from the raw list; the parsed object is kept in step for the phases.
  const raw = x.req.rawHeaders as string[]
  if (etag !== undefined) {
    raw.push('if-none-match', etag)
    x.req.headers['if-none-match'] = etag
  }
  if (lastModified !== undefined) {
    raw.push('if-modified-since', lastModified)
    x.req.headers['if-modified-since'] = lastModified
  }
  return true
}
