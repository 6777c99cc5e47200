/**
 * TLS sessions by session id, each until its expiry (a `Date.now()` time), at most `max` of them:
 * when full, the oldest goes first.
 */
export class SessionStore<Data extends Uint8Array = Uint8Array> {
  // Insertion order is age order: the first key is the oldest.
  readonly #sessions = new Map<string, { readonly data: Data; readonly expires: number }>()

  /** Keeps `data` under `key` until `expires`, dropping the oldest session when `max` are kept. */
  put(key: string, data: Data, expires: number, max: number): void {
    this.#sessions.delete(key)
    while (this.#sessions.size >= max && this.#sessions.size > 0)
      this.#sessions.delete(this.#sessions.keys().next().value!)
    if (max > 0) this.#sessions.set(key, { data, expires })
  }

  /** The session under `key` and its expiry, or undefined when there is none or it expired by `now`. */
  get(key: string, now: number): { readonly data: Data; readonly expires: number } | undefined {
    const session = this.#sessions.get(key)
    if (session === undefined || session.expires > now) return session
    this.#sessions.delete(key)
    return undefined
  }
}
