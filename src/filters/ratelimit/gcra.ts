/**
 * The generic cell rate algorithm (GCRA, as in ATM and redis-cell). Each key keeps one number, its
 * theoretical arrival time (TAT); a request is allowed when, after it, the TAT is at most
 * `interval + tolerance` ahead of now. With `interval` = per / rate and `tolerance` =
 * (burst - 1) × interval, at most burst + t / interval requests pass in any time t.
 */
export interface GcraParams {
  /** Milliseconds between requests at the steady rate (per / rate). */
  readonly intervalMs: number
  /** Milliseconds the TAT may run ahead of now beyond one interval: (burst - 1) × interval. */
  readonly toleranceMs: number
}

/** One decision: allowed or not, and how far ahead of now the key's TAT stands after it. */
export interface GcraDecision {
  readonly allowed: boolean
  /** Milliseconds from now to the key's TAT after this decision (the time until its count is whole again). */
  readonly aheadMs: number
}

/**
 * Decides one request at `now` for a key whose TAT is `tat` (0 or any past time when fresh).
 * Returns the decision and the new TAT, which is the old one when the request is refused.
 */
export function gcra(tat: number, now: number, p: GcraParams): GcraDecision & { readonly tat: number } {
  const from = Math.max(tat, now)
  const next = from + p.intervalMs
  if (next - now > p.intervalMs + p.toleranceMs) return { allowed: false, aheadMs: from - now, tat }
  return { allowed: true, aheadMs: next - now, tat: next }
}

/** Requests that could still pass at once after a decision. */
export function remaining(d: GcraDecision, p: GcraParams): number {
  const left = Math.floor((p.intervalMs + p.toleranceMs - d.aheadMs) / p.intervalMs + 1e-9)
  return Math.max(left, 0)
}

/** Milliseconds until a refused request would pass. */
export function retryAfterMs(d: GcraDecision, p: GcraParams): number {
  return Math.max(0, d.aheadMs + p.intervalMs - (p.intervalMs + p.toleranceMs))
}
