import CachePolicy from 'http-cache-semantics'
import type { Exchange } from '../exchange.ts'
import { directives, seconds } from './directives.ts'
import type { CacheConfig } from './schema.ts'

/** What the cache keeps of a response it stores, besides the body. */
export interface Stored {
  readonly status: number
  /** The response head as stored, flat `[name, value, …]`: no Set-Cookie, no request id. */
  readonly headers: readonly string[]
  /** Freshness lifetime in seconds (RFC 9111 §4.2.1). */
  readonly lifetime: number
  /** Age in seconds when received: corrected_initial_age of RFC 9111 §4.2.3. */
  readonly initialAge: number
  /** `Date.now()` when the response was received. */
  readonly responseTime: number
  /** Whether a stale copy must never be served without revalidation (must-revalidate, proxy-revalidate, s-maxage). */
  readonly mustRevalidate: boolean
  /** Seconds past its lifetime it may be served while refreshed (RFC 5861 stale-while-revalidate); undefined when not said. */
  readonly staleWhileRevalidate: number | undefined
  /** Seconds past its lifetime it may be served when the backend fails (RFC 5861 stale-if-error); undefined when not said. */
  readonly staleIfError: number | undefined
  /** Lower-case names of the request headers the response varies on; empty for none. */
  readonly vary: readonly string[]
}

// Never stored: the cookie belongs to the client it was sent to, the request id to its request.
const unstoredHeaders = new Set(['set-cookie', 'x-request-id'])

/**
 * Decides whether a response to `x` may be stored (RFC 9111 §3) and how long it stays fresh.
 * `http-cache-semantics` judges storability (method, status, no-store, private, Authorization,
 * explicit or default cacheability); Portico's own code adds what it lacks: `no-cache` with field
 * names, Set-Cookie per route, the heuristic cap, the route's default TTL and the §4.2.3 age.
 * Returns the stored form, or a short reason why not.
 */
export function storable(
  x: Exchange,
  status: number,
  headers: readonly string[],
  config: CacheConfig,
): Stored | string {
  if (x.req.method !== 'GET') return 'method'
  // Parts and not-modified answers are no whole response to store (RFC 9111 §3.3, §4.3.4).
  if (status === 206 || status === 304) return 'partial'
  if (config.statuses && !config.statuses.includes(status)) return 'status'
  const fields = fieldRecord(headers)
  if (fields['set-cookie'] !== undefined && !config.store_set_cookie) return 'set-cookie'
  const cc = directives(fields['cache-control'])
  const noCache = cc.get('no-cache')
  const leftOut = new Set(unstoredHeaders)
  // RFC 9111 §5.2.2.4: no-cache naming fields lets the rest be stored; the fields are left out.
  if (typeof noCache === 'string') for (const f of noCache.split(',')) leftOut.add(f.trim().toLowerCase())
  const policyFields = libraryFields(fields, cc)
  const vary = (fields.vary ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '')
  if (vary.includes('*')) return 'vary'

  const policy = new CachePolicy(
    { method: 'GET', url: x.path, headers: x.req.headers as Record<string, string> },
    { status, headers: policyFields },
    { shared: true, cacheHeuristic: 0.1, immutableMinTimeToLive: 0 },
  )
  if (!policy.storable()) return 'not-storable'
  let lifetime = freshFor(policy, cc, fields, config)
  // RFC 9111 §5.2.2.4: a bare no-cache response may be stored, but never reused without
  // revalidation: with a validator it is kept with no freshness, no stale use, and revalidated
  // on each request (a 304 answers from the store); without one there is nothing to reuse.
  const revalidateAlways = noCache === true && (fields.etag !== undefined || fields['last-modified'] !== undefined)
  if (revalidateAlways) lifetime = 0
  else if (lifetime <= 0) return 'no-freshness'

  const responseTime = Date.now()
  const kept: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    if (!leftOut.has(name) && name !== 'age') kept.push(headers[i]!, headers[i + 1]!)
  }
  return {
    status,
    headers: kept,
    lifetime,
    initialAge: initialAge(x, fields, responseTime),
    responseTime,
    mustRevalidate: revalidateAlways || cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage'),
    staleWhileRevalidate: revalidateAlways ? undefined : seconds(cc, 'stale-while-revalidate'),
    staleIfError: revalidateAlways ? undefined : seconds(cc, 'stale-if-error'),
    vary,
  }
}

/** The fields of a flat header list by lower-case name, repeated ones joined. */
function fieldRecord(headers: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    fields[name] = fields[name] === undefined ? headers[i + 1]! : `${fields[name]}, ${headers[i + 1]}`
  }
  return fields
}

/**
 * How long a storable response stays fresh, in seconds: its explicit lifetime, else the heuristic
 * one where the library allows it (a cacheable-by-default status or public), capped, else the
 * route's default TTL.
 */
function freshFor(
  policy: CachePolicy,
  cc: ReturnType<typeof directives>,
  fields: Record<string, string>,
  config: CacheConfig,
): number {
  const explicit =
    seconds(cc, 's-maxage') !== undefined || seconds(cc, 'max-age') !== undefined || fields.expires !== undefined
  const lifetime = policy.maxAge()
  if (explicit) return lifetime
  const heuristic = Math.min(lifetime, config.heuristic_max / 1000)
  if (heuristic === 0 && fields['last-modified'] === undefined && !cc.has('no-cache')) return config.default_ttl / 1000
  return heuristic
}

/**
 * The response's fields as `http-cache-semantics` should judge them: without what Portico decides
 * itself, which the library would read otherwise.
 */
function libraryFields(fields: Record<string, string>, cc: ReturnType<typeof directives>): Record<string, string> {
  let policyFields = fields
  // RFC 9111 §5.2.2.4: the fields no-cache names are left out of what is stored (see leftOut).
  if (typeof cc.get('no-cache') === 'string') {
    policyFields = { ...fields, 'cache-control': withoutDirective(fields['cache-control']!, 'no-cache') }
  }
  // RFC 9111 §5.2.2.8: proxy-revalidate only forbids serving the response stale without
  // revalidation (mustRevalidate below); the library reads it as no freshness at all in a shared cache.
  if (cc.has('proxy-revalidate')) {
    policyFields = {
      ...policyFields,
      'cache-control': withoutDirective(policyFields['cache-control']!, 'proxy-revalidate'),
    }
  }
  delete policyFields['set-cookie']
  // Pragma has no meaning in a response (RFC 9111 §5.4); the library reads it as no-cache.
  if (policyFields.pragma !== undefined) {
    policyFields = { ...policyFields }
    delete policyFields.pragma
  }
  return policyFields
}

/** The response's age when it was received, in seconds (RFC 9111 §4.2.3: apparent or corrected age). */
function initialAge(x: Exchange, fields: Record<string, string>, responseTime: number): number {
  const requestTime = responseTime - (performance.now() - x.start)
  const date = Date.parse(fields.date ?? '')
  const apparentAge = Number.isNaN(date) ? 0 : Math.max(0, (responseTime - date) / 1000)
  const ageValue = /^\d+$/.test(fields.age ?? '') ? Number(fields.age) : 0
  const correctedAgeValue = ageValue + (responseTime - requestTime) / 1000
  return Math.max(apparentAge, correctedAgeValue)
}

/** The current age in seconds of a stored response (RFC 9111 §4.2.3). */
export function currentAge(s: Stored, now: number): number {
  return s.initialAge + (now - s.responseTime) / 1000
}

function withoutDirective(value: string, name: string): string {
  return [...directives(value)]
    .filter(([n]) => n !== name)
    .map(([n, v]) => (v === true ? n : `${n}=${v}`))
    .join(', ')
}
