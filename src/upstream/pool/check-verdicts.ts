import type { EventLog } from '../../log/events.ts'
import { type ActiveCheckSettings, ActiveChecks, type ProbeListener } from '../health/active.ts'
import { checkVerdict } from '../health/verdict.ts'
import type { Health, Server } from '../server.ts'

/**
 * A key→value map that every process of the machine sees (the instance's shared state), as the
 * pool uses it: only the `leader` runs active checks, and the verdicts it sets reach every process,
 * whose watchers run on each change and at once for what was set before they watched.
 */
export interface SharedMap {
  readonly leader: boolean
  set(key: string, value: unknown): void
  watch(prefix: string, listener: (key: string, value: unknown) => void): () => void
}

/** A process alone: the leader, whose verdicts go straight to its one pool. */
export function aloneMap(): SharedMap {
  let listener: ((key: string, value: unknown) => void) | undefined
  return {
    leader: true,
    set: (key, value) => listener?.(key, value),
    watch: (_prefix, l) => {
      listener = l
      return () => {
        listener = undefined
      }
    },
  }
}

/** An active check verdict as the leader shares it, under `health/<pool>/<address>`; undefined once forgotten. */
interface SharedVerdict {
  readonly health: Health
  /** What the check saw: `check passed`, `status 503`, `ECONNREFUSED`, … */
  readonly reason: string
  /** Counts passing checks of a healthy server, so that each one reaches every process and ends an ejection there. */
  readonly pass?: number
}

/** What a verdict does to the pool that holds the server. */
export interface VerdictTarget {
  /** The pool's servers now. */
  servers(): readonly Server[]
  /** Ends a passive ejection of `s`: an active check passed. */
  endEjection(s: Server): void
  /** `s` became healthy: it ramps up under slow start. */
  recovered(s: Server): void
  /** Health changed: modes are recounted and queued requests may start. */
  settle(): void
}

/**
 * A pool's active checks and their verdicts: the leader process runs the checks and applies
 * `rise`/`fall`; every process, the leader included, applies each change of health it is told of.
 */
export class CheckVerdicts implements ProbeListener {
  readonly #pool: string
  readonly #settings: ActiveCheckSettings
  readonly #shared: SharedMap
  readonly #events: EventLog
  readonly #target: VerdictTarget
  /** `health/<pool>/`: the prefix of this pool's verdicts in the shared map. */
  readonly #key: string
  /** The active checks, in the leader process only. */
  readonly #checks: ActiveChecks | undefined
  #unwatch: (() => void) | undefined
  /** Passing checks shared so far, in the leader: each shared pass differs from the last. */
  #passes = 0

  constructor(pool: string, settings: ActiveCheckSettings, shared: SharedMap, events: EventLog, target: VerdictTarget) {
    this.#pool = pool
    this.#settings = settings
    this.#shared = shared
    this.#events = events
    this.#target = target
    this.#key = `health/${pool}/`
    // Once per machine, not once per worker: the leader checks, every process applies the verdicts.
    this.#checks = shared.leader ? new ActiveChecks(settings, this) : undefined
  }

  /** Takes the verdicts made so far and those to come, and starts checking `servers` (in the leader). */
  start(servers: readonly Server[]): void {
    this.#unwatch = this.#shared.watch(this.#key, (key, value) => this.#apply(key, value as SharedVerdict | undefined))
    for (const s of servers) this.#checks?.add(s)
  }

  /**
   * One active check ended (ProbeListener), in the leader process: applies `rise`/`fall`, and shares
   * a change of health with every process, this one included, which applies it at once.
   */
  onProbe(server: Server, failure: string | undefined): void {
    const health = checkVerdict(server.state, failure === undefined, this.#settings.rise, this.#settings.fall)
    if (health !== undefined) {
      const verdict: SharedVerdict = { health, reason: failure ?? 'check passed' }
      this.#shared.set(this.#key + server.address, verdict)
    } else if (failure === undefined && server.state.health === 'healthy') {
      // A passing check ends a passive ejection, in whichever process made it (Envoy's default):
      // the pass is shared too, though health did not change.
      const verdict: SharedVerdict = { health: 'healthy', reason: 'check passed', pass: ++this.#passes }
      this.#shared.set(this.#key + server.address, verdict)
    }
  }

  /**
   * Stops checking `s` and clears its shared verdict, so that a server added again later starts
   * unknown, as a new one does. The leader owns the verdicts, so only it clears them.
   */
  forget(s: Server): void {
    if (!this.#checks) return
    this.#checks.remove(s)
    this.#shared.set(this.#key + s.address, undefined)
  }

  /** Stops the checks and the verdicts, and forgets the servers the next Plan does not keep. */
  stop(servers: readonly Server[], kept: readonly Server[] | undefined): void {
    this.#checks?.stop()
    this.#unwatch?.()
    if (!this.#checks) return
    for (const s of servers) {
      if (!kept?.some((c) => c.address === s.address)) this.#shared.set(this.#key + s.address, undefined)
    }
  }

  /**
   * A change of health from the leader's checks, this process's own included: applies it to the
   * server `key` names, if this pool has it. Only the leader logs it, so the log has it once; a
   * worker started later (a new leader too) takes the verdicts made so far while it builds its pools.
   */
  #apply(key: string, verdict: SharedVerdict | undefined): void {
    if (verdict === undefined) return
    const address = key.slice(this.#key.length)
    const server = this.#target.servers().find((s) => s.address === address)
    if (!server) return
    const state = server.state
    // A passing check ends an ejection at once (#21), as the server answers again.
    if (verdict.health === 'healthy' && state.health === 'healthy') {
      if (state.ejectedUntil !== 0) this.#target.endEjection(server)
      return
    }
    if (state.health === verdict.health) return
    state.health = verdict.health
    state.changed('active', verdict.reason, verdict.health === 'healthy' && state.ejectedUntil !== 0)
    if (verdict.health === 'healthy') this.#target.recovered(server)
    // Verdicts replayed while this pool is built (a new leader's) were logged when they were made.
    if (this.#shared.leader && this.#unwatch) {
      const details = { pool: this.#pool, server: address }
      if (verdict.health === 'healthy') this.#events.info('server healthy', details)
      else this.#events.warn('server unhealthy', { ...details, reason: verdict.reason })
    }
    if (verdict.health === 'healthy' && state.ejectedUntil !== 0) this.#target.endEjection(server)
    this.#target.settle()
  }
}
