import type { EventLog } from '../../log/events.ts'
import type { AttemptResult } from '../balancers/balancer.ts'
import type { Server } from '../server.ts'

/**
 * Passive ejections and their timers: a server that outlier detection ejects takes no traffic
 * until its time is up (or a passing active check ends it early), never more than
 * `maxEjectedShare` of the pool at once, and at least one.
 */
export class Ejections {
  readonly #pool: string
  readonly #maxEjectedShare: number
  readonly #events: EventLog
  readonly #now: () => number
  /** Whether the pool has active checks: a server they hold unhealthy stays out after its return. */
  readonly #checked: boolean
  /** Called once a server is back, after its state says so: the pool ramps it up and starts queued requests. */
  readonly #back: (s: Server) => void

  constructor(
    pool: string,
    settings: { readonly maxEjectedShare: number; readonly checked: boolean },
    deps: { readonly events: EventLog; readonly now: () => number; readonly back: (s: Server) => void },
  ) {
    this.#pool = pool
    this.#maxEjectedShare = settings.maxEjectedShare
    this.#checked = settings.checked
    this.#events = deps.events
    this.#now = deps.now
    this.#back = deps.back
  }

  /** Ejects `s` for `forMs` after `result`, unless too many of `servers` are out already. True when it did. */
  eject(servers: readonly Server[], s: Server, forMs: number, result: AttemptResult, now: number): boolean {
    const state = s.state
    let ejected = 0
    for (const c of servers) if (c.state.ejectedUntil !== 0) ejected++
    const allowed = Math.max(1, Math.floor(servers.length * this.#maxEjectedShare))
    if (ejected >= allowed) return false
    const failures = state.consecutiveFailures
    const reason = `${failures} consecutive failures, last ${result.code ?? `status ${result.status}`}`
    const until = now + forMs
    state.ejectedUntil = until
    state.ejections++
    state.ejectionsTotal++
    state.changed('passive', reason)
    this.#events.warn('server ejected', { pool: this.#pool, server: s.address, reason, ejection_ms: forMs })
    // An ejection that a passing check ended early, or a later one, is not this timer's to end.
    const timer = setTimeout(() => state.ejectedUntil === until && this.end(s), forMs)
    timer.unref()
    return true
  }

  /** Ends the ejection of `s` now: its time is up, or an active check passed. */
  end(s: Server): void {
    const state = s.state
    state.ejectedUntil = 0
    state.consecutiveFailures = 0
    state.returnedAt = this.#now()
    state.changed('passive', 'ejection ended', this.#checked && state.health === 'unhealthy')
    this.#events.info('server back from ejection', { pool: this.#pool, server: s.address })
    this.#back(s)
  }
}
