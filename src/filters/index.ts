import { auth } from './auth/index.ts'
import { buffer } from './buffer/buffer.ts'
import { clientRules } from './client-rules.ts'
import { compress } from './compress/compress.ts'
import { headers } from './headers/headers.ts'
import { hideHeaders } from './headers/hide-headers.ts'
import { securityHeaders } from './headers/security-headers.ts'
import { limits } from './limits/limits.ts'
import { type RequestPhase, type RoutePhases, sliced } from './phase.ts'
import { rateLimitHeaders } from './ratelimit/headers.ts'

/** Request phases every route runs, in order, before its own. */
export const globalRequestPhases: readonly RequestPhase[] = [limits]

/** Per-route phases that run before all the route's others, its rate limits included: a refused client costs nothing more. */
export const routeGuardFactories: readonly RoutePhases[] = [sliced(clientRules, (r) => r.clients, 'clients')]

/**
 * Per-route phase factories, in the order their phases run. Request phases run top to bottom;
 * response phases run top to bottom on the head, and their body transforms chain in the same
 * order towards the client. Each factory gets its own slice of the route's config, cut here.
 */
export const routePhaseFactories: readonly RoutePhases[] = [
  sliced(auth, (r) => r.auth, 'auth'),
  sliced(rateLimitHeaders, (r) => r.rate_limits, 'rate_limits'),
  sliced(hideHeaders, (r) => r.hide_response_headers, 'hide_response_headers'),
  sliced(securityHeaders, (r) => r.security_headers, 'security_headers'),
  sliced(headers, (r) => ({ request: r.request_headers, response: r.response_headers }), 'request_headers'),
  sliced(compress, (r) => r.compression, 'compression'),
  sliced(buffer, (r) => ({ buffering: r.buffering, maxBodyBytes: r.max_body_bytes }), 'buffering'),
]
