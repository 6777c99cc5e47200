import { seconds } from './directives.ts'
import { currentAge, type Stored } from './policy.ts'

/**
 * Whether a stored response may answer a request now (RFC 9111 §4.2, §5.2.1): `hit`, or why not:
 * `stale` (past its lifetime and the request allows no more), `request` (the request's own
 * directives ask for a fresher one). `cc` is the request's Cache-Control, empty when ignored.
 */
export function freshness(s: Stored, cc: Map<string, string | true>, now: number): 'hit' | 'stale' | 'request' {
  if (cc.has('no-cache')) return 'request'
  const age = currentAge(s, now)
  const maxAge = seconds(cc, 'max-age')
  if (maxAge !== undefined && age > maxAge) return 'request'
  const minFresh = seconds(cc, 'min-fresh')
  if (minFresh !== undefined && s.lifetime - age < minFresh) return 'request'
  if (age < s.lifetime) return 'hit'
  if (s.mustRevalidate) return 'stale'
  // RFC 9111 §5.2.1.2: max-stale without a value takes any staleness.
  const maxStale = cc.get('max-stale')
  if (maxStale === true) return 'hit'
  const stale = seconds(cc, 'max-stale')
  return stale !== undefined && age - s.lifetime <= stale ? 'hit' : 'stale'
}

/**
 * Whether a stale response may still be served, `window` seconds past its lifetime (RFC 5861); when
 * the backend gave no window, the route's `grace` applies, unless the response forbids stale use.
 */
export function withinStale(s: Stored, window: number | undefined, graceS: number, now: number): boolean {
  const limit = window ?? (s.mustRevalidate ? 0 : graceS)
  return currentAge(s, now) - s.lifetime < limit
}
