/**
 * Caps retries at a share of requests (a token bucket, as Finagle's RetryBudget): each request
 * earns `ratio` of a token, each retry spends a whole one, and the bucket holds at most `burst`
 * tokens and starts full. A sick pool therefore sees at most `ratio` extra load from retries,
 * never a retry storm.
 */
export class RetryBudget {
  readonly ratio: number
  readonly burst: number
  #tokens: number

  constructor(ratio: number, burst: number) {
    this.ratio = ratio
    this.burst = burst
    this.#tokens = burst
  }

  /** A request began: earn its share. */
  earn(): void {
    this.#tokens = Math.min(this.burst, this.#tokens + this.ratio)
  }

  /** Spends a token for one retry; false when the budget is spent. */
  spend(): boolean {
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
