import { auth } from './auth/index.ts'
import { buffer } from './buffer.ts'
import { clientRules } from './client-rules.ts'
import { compress } from './compress.ts'
import { headers } from './headers.ts'
import { hideHeaders } from './hide-headers.ts'
import { limits } from './limits.ts'
import type { RequestPhase, RoutePhaseFactory } from './phase.ts'
import { rateLimitHeaders } from './ratelimit/headers.ts'
import { securityHeaders } from './security-headers.ts'

/** Request phases every route runs, in order, before its own. */
export const globalRequestPhases: readonly RequestPhase[] = [limits]

/** Per-route phases that run before all the route's others, its rate limits included: a refused client costs nothing more. */
export const routeGuardFactories: readonly RoutePhaseFactory[] = [clientRules]

/**
 * Per-route phase factories, in the order their phases run. Request phases run top to bottom;
 * response phases run top to bottom on the head, and their body transforms chain in the same
 * order towards the client.
 */
export const routePhaseFactories: readonly RoutePhaseFactory[] = [
  auth,
  rateLimitHeaders,
  hideHeaders,
  securityHeaders,
  headers,
  compress,
  buffer,
]
