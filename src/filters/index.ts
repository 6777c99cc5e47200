import { buffer } from './buffer/buffer.ts'
import { clientRules } from './client-rules.ts'
import { compress } from './compress/compress.ts'
import { headers } from './headers/headers.ts'
import { hideHeaders } from './headers/hide-headers.ts'
import { securityHeaders } from './headers/security-headers.ts'
import { limits } from './limits/limits.ts'
import type { RequestPhase, RoutePhaseFactory } from './phase.ts'

/** Request phases every route runs, in order, before its own. */
export const globalRequestPhases: readonly RequestPhase[] = [limits]

/**
 * Per-route phase factories, in the order their phases run. Request phases run top to bottom;
 * response phases run top to bottom on the head, and their body transforms chain in the same
 * order towards the client.
 */
export const routePhaseFactories: readonly RoutePhaseFactory[] = [
  clientRules,
  hideHeaders,
  securityHeaders,
  headers,
  compress,
  buffer,
]
