/**
 * Caps the retries under way at once at a share of the requests in flight, with a floor (as
 * Envoy's retry budget: `budget_percent` of active requests, at least `min_retry_concurrency`).
 * A sick pool therefore sees at most `ratio` extra load from retries, never a retry storm, while
 * a server that dies with many requests in flight gets them all retried on a busy pool. Retries
 * of requests that never reached a server, and of those a server held as it went down after the
 * first it dropped (retry.ts), are not counted here at all.
 *
 * The budget is reached only through `begin` and `end`, so that it may be kept for the pool in
 * this process or for the whole instance without its callers changing.
 */
export class RetryBudget {
  readonly ratio: number
  readonly floor: number
  #active = 0

  constructor(ratio: number, floor: number) {
    this.ratio = ratio
    this.floor = floor
  }

  /** Retries started and not yet ended. */
  get active(): number {
    return this.#active
  }

  /**
   * Starts one retry if fewer than `max(floor, ratio × inFlight)` are under way, where `inFlight`
   * counts the pool's requests in flight now; a started retry must call `end()` once it ends.
   */
  begin(inFlight: number): boolean {
    if (this.#active >= Math.max(this.floor, this.ratio * inFlight)) return false
    this.#active++
    return true
  }

  /** A retry that `begin` started ended, well or not. */
  end(): void {
    if (this.#active > 0) this.#active--
  }

  /** Kept for callers that count requests as they start; the budget follows requests in flight instead. */
  earn(): void {}

  /**
   * For callers that retry only requests that never reached a server (websocket connects): such a
   * retry is not counted, so this only says whether the budget's floor allows retries at all.
   */
  spend(): boolean {
    return this.floor > 0 || this.ratio > 0
  }
}
