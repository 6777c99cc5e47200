/**
 * One backend fetch that other requests for the same key wait on (request coalescing). The
 * fetching request calls `done` once: `true` when its response was stored, so waiters look it up;
 * `false` when it was not (not storable, failed, aborted), so each waiter fetches for itself at once.
 */
export class Flight {
  readonly #waiters = new Set<(stored: boolean) => void>()
  #done = false
  readonly #flights: Map<string, Flight>
  readonly #key: string

  constructor(flights: Map<string, Flight>, key: string) {
    this.#flights = flights
    this.#key = key
    flights.set(key, this)
  }

  /**
   * Calls `then` when the fetch ends, or with `false` after `timeoutMs`; returns a function that
   * stops waiting without calling it (the waiting client left).
   */
  wait(then: (stored: boolean) => void, timeoutMs: number): () => void {
    const timer = setTimeout(() => {
      this.#waiters.delete(waiter)
      then(false)
    }, timeoutMs)
    timer.unref()
    const waiter = (stored: boolean) => {
      clearTimeout(timer)
      then(stored)
    }
    this.#waiters.add(waiter)
    return () => {
      clearTimeout(timer)
      this.#waiters.delete(waiter)
    }
  }

  /** Requests waiting on this fetch. */
  get waiting(): number {
    return this.#waiters.size
  }

  /** Ends the flight and releases its waiters; later calls do nothing. */
  done(stored: boolean): void {
    if (this.#done) return
    this.#done = true
    if (this.#flights.get(this.#key) === this) this.#flights.delete(this.#key)
    for (const waiter of this.#waiters) waiter(stored)
    this.#waiters.clear()
  }
}
