import type { Exchange } from '../../exchange.ts'
import type { ResponsePhase, RoutePhaseFactory } from '../phase.ts'
import type { RateLimitConfig } from './schema.ts'

/**
 * Adds `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) to an answer the
 * route's rate limits let through, one list item per limit that counted it, so that a client sees
 * how much of its quota is left before it meets a 429. A 429 of the limits carries its own.
 */
class RateLimitHeaders implements ResponsePhase {
  onResponse(x: Exchange, _status: number, headers: string[]): undefined {
    const limits = x.rateLimits
    if (limits === undefined || x.outcome === 'rate_limited') return undefined
    let policy = limits[0]![0]
    let state = limits[0]![1]
    for (let i = 1; i < limits.length; i++) {
      policy += `, ${limits[i]![0]}`
      state += `, ${limits[i]![1]}`
    }
    headers.push('ratelimit-policy', policy, 'ratelimit', state)
    return undefined
  }
}

const phase = new RateLimitHeaders()

/** The RateLimit headers of a route whose limits advertise themselves (`headers`, on by default). */
export const rateLimitHeaders: RoutePhaseFactory<readonly RateLimitConfig[] | undefined> = {
  response: (limits) => (limits?.some((l) => l.headers && l.action !== 'shadow') ? phase : undefined),
}
