type Watcher = { readonly prefix: string; readonly listener: (key: string, value: unknown) => void }

/**
 * A small key→value map that every Portico process sees, for facts found once per machine and
 * needed by every worker (active health check verdicts). A value set in any process reaches
 * all of them through the primary, last write wins, and a worker started later receives every
 * key set so far. Values cross processes by structured clone: plain data, no functions.
 *
 * Only the `leader` runs work that must happen once per machine, such as active health checks: the
 * first worker (its replacement after a crash), or the only process when Portico runs one.
 */
export class SharedState {
  #leader = true
  readonly #values = new Map<string, unknown>()
  #watchers: Watcher[] = []
  #send: ((key: string, value: unknown) => void) | undefined

  /** Whether this process runs once-per-machine work. True unless this is a worker other than the first. */
  get leader(): boolean {
    return this.#leader
  }

  /** Sets `key` here and in every other process; watchers run in each. */
  set(key: string, value: unknown): void {
    this.receive(key, value)
    this.#send?.(key, value)
  }

  /** The value of `key`, or undefined when none was set. */
  get(key: string): unknown {
    return this.#values.get(key)
  }

  /**
   * Calls `listener` for every key that starts with `prefix`: at once for those already set, then
   * on each change, in whichever process it was made. Returns a function that stops the calls.
   */
  watch(prefix: string, listener: (key: string, value: unknown) => void): () => void {
    const watcher = { prefix, listener }
    this.#watchers.push(watcher)
    for (const [key, value] of this.#values) if (key.startsWith(prefix)) listener(key, value)
    return () => {
      this.#watchers = this.#watchers.filter((w) => w !== watcher)
    }
  }

  /** Makes this process a worker of a cluster: `send` passes its own changes to the primary. */
  join(leader: boolean, send: (key: string, value: unknown) => void): void {
    this.#leader = leader
    this.#send = send
  }

  /** Applies a change made in another process. */
  receive(key: string, value: unknown): void {
    this.#values.set(key, value)
    for (const w of this.#watchers) if (key.startsWith(w.prefix)) w.listener(key, value)
  }
}

/** This process's view of the shared state. */
export const shared = new SharedState()
