import type { Server } from '../server.ts'
import { type HttpProbeSettings, httpProbe } from './http-probe.ts'
import { tcpProbe } from './tcp-probe.ts'

/** Active check settings of one pool; durations in milliseconds. */
export interface ActiveCheckSettings {
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly rise: number
  readonly fall: number
  /** HTTP check settings; undefined checks with a TCP connect. */
  readonly http: HttpProbeSettings | undefined
}

/** Where check results go: the pool that owns the servers. */
export interface ProbeListener {
  /** One check of `server` ended: `failure` is undefined when it passed, else why it failed. */
  onProbe(server: Server, failure: string | undefined): void
}

/**
 * Checks each server of a pool every interval, the first time at once, and reports every result
 * to the listener. It knows nothing of pools or health state: the listener decides what a
 * result means.
 */
export class ActiveChecks {
  readonly #settings: ActiveCheckSettings
  readonly #listener: ProbeListener
  readonly #timers = new Map<Server, NodeJS.Timeout | undefined>()

  constructor(settings: ActiveCheckSettings, listener: ProbeListener) {
    this.#settings = settings
    this.#listener = listener
  }

  /** Starts checking `server`. */
  add(server: Server): void {
    if (this.#timers.has(server)) return
    this.#timers.set(server, undefined)
    void this.#run(server)
  }

  /** Stops checking `server`; a check under way is not reported. */
  remove(server: Server): void {
    clearTimeout(this.#timers.get(server))
    this.#timers.delete(server)
  }

  /** Stops every check. */
  stop(): void {
    for (const server of [...this.#timers.keys()]) this.remove(server)
  }

  async #run(server: Server): Promise<void> {
    const s = this.#settings
    const failure = s.http ? await httpProbe(server, s.http, s.timeoutMs) : await tcpProbe(server, s.timeoutMs)
    if (!this.#timers.has(server)) return
    this.#listener.onProbe(server, failure)
    if (!this.#timers.has(server)) return
    const timer = setTimeout(() => void this.#run(server), s.intervalMs)
    timer.unref()
    this.#timers.set(server, timer)
  }
}
