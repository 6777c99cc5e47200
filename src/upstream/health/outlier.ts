import type { FailureCode } from '../../errors.ts'
import type { AttemptResult } from '../balancers/balancer.ts'
import type { ServerState } from '../server.ts'

/** Kinds of failed attempt outlier detection can count. */
export type FailureKind = 'connect' | 'reset' | 'timeout' | '5xx'

/** Passive health settings of one pool; durations in milliseconds. */
export interface OutlierSettings {
  /** Failed attempts in a row that eject a server; 0 turns detection off. */
  readonly consecutive: number
  readonly counts: ReadonlySet<FailureKind>
  readonly baseEjectionMs: number
  readonly maxEjectionMs: number
  /** Largest share of a pool's servers that may be out at once; one server always may. */
  readonly maxEjectedShare: number
}

/**
 * Passive health (outlier detection, as Envoy's): counts failed attempts in a row per server and
 * says when one should be ejected and for how long. The pool does the ejecting.
 */
export class OutlierDetector {
  readonly settings: OutlierSettings

  constructor(settings: OutlierSettings) {
    this.settings = settings
  }

  /**
   * Records the result of an attempt on `state` at `now` (ms). Returns how long to eject the server
   * for, growing with each ejection in a row (base, 2×base, 4×base … up to the maximum), or 0 to
   * keep it in.
   */
  record(state: ServerState, result: AttemptResult, now: number): number {
    const s = this.settings
    const kind = failureKind(result)
    if (kind === undefined || !s.counts.has(kind)) {
      // An answer the server gave counts as a success; a failure not counted (a client abort) as nothing.
      if (result.ok) {
        state.consecutiveFailures = 0
        // A server that has stayed in for a whole maximum ejection starts its backoff afresh.
        if (state.ejections > 0 && now - state.returnedAt >= s.maxEjectionMs) state.ejections = 0
      }
      return 0
    }
    state.consecutiveFailures++
    if (s.consecutive === 0 || state.consecutiveFailures < s.consecutive || state.ejectedUntil !== 0) return 0
    return Math.min(s.baseEjectionMs * 2 ** state.ejections, s.maxEjectionMs)
  }
}

/** Which kind of failure an attempt was; undefined for a success or a failure not the server's. */
export function failureKind(result: AttemptResult): FailureKind | undefined {
  if (result.ok) return result.status !== undefined && result.status >= 500 ? '5xx' : undefined
  return result.code === undefined ? undefined : kinds[result.code]
}

const kinds: Partial<Record<FailureCode, FailureKind>> = {
  backend_refused: 'connect',
  connect_timeout: 'connect',
  backend_reset: 'reset',
  backend_error: 'reset',
  backend_timeout: 'timeout',
}
