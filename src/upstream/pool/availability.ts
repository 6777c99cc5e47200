import type { EventLog } from '../../log/events.ts'
import type { Server } from '../server.ts'

/** What availability reads from the pool's settings. */
export interface AvailabilitySettings {
  /** Whether the pool has active checks, run in this process or in the leader. */
  readonly checked: boolean
  /** Whether a server takes traffic before its first active check has answered. */
  readonly unknownTakesTraffic: boolean
  /** Below this share of healthy primaries, with no healthy backup, health is ignored (panic). */
  readonly panicThreshold: number
}

/**
 * Which of a pool's servers may take a request now: healthy (or known, in panic mode), not
 * ejected, not draining, under `max_conns`, a primary or, in the backups' turn, a backup. It holds
 * the pool's two modes, backups' turn and panic, which `recount` sets after any change of health.
 * The predicates are built once, so a pick allocates nothing.
 */
export class Availability {
  readonly #pool: string
  readonly #settings: AvailabilitySettings
  readonly #events: EventLog
  /** Whether backups serve now: no primary is healthy. */
  #backupTurn = false
  /** Whether health is ignored now: too few servers are healthy. */
  #panic = false
  /** Usable primaries. */
  readonly primary = (s: Server) => this.#usable(s, false)
  /** Usable backups. */
  readonly backup = (s: Server) => this.#usable(s, true)

  constructor(pool: string, settings: AvailabilitySettings, events: EventLog) {
    this.#pool = pool
    this.#settings = settings
    this.#events = events
  }

  /** Whether backups serve now, as no primary is healthy. */
  get backupTurn(): boolean {
    return this.#backupTurn
  }

  /** The predicate for a first pick: primaries, or backups in their turn. */
  get first(): (s: Server) => boolean {
    return this.#backupTurn ? this.backup : this.primary
  }

  /** Whether some server could take an exchange once it has a free slot. */
  couldServe(servers: readonly Server[], tried: readonly Server[] | undefined): boolean {
    for (const s of servers) {
      if (s.weight === 0 || s.backup !== this.#backupTurn || s.state.draining) continue
      if (this.#panic ? this.#known(s) : this.#healthy(s)) return true
    }
    return tried !== undefined && tried.length > 0 && this.couldServe(servers, undefined)
  }

  /** Decides between primaries and backups, and whether to panic, after any change of health. */
  recount(servers: readonly Server[]): void {
    let primaries = 0
    let healthyPrimaries = 0
    let healthyBackups = 0
    let unknownPrimaries = 0
    for (const s of servers) {
      if (s.state.draining || s.weight === 0) continue
      if (!this.#known(s)) {
        unknownPrimaries += s.backup ? 0 : 1
        continue
      }
      const healthy = this.#healthy(s)
      if (s.backup) healthyBackups += healthy ? 1 : 0
      else {
        primaries++
        healthyPrimaries += healthy ? 1 : 0
      }
    }
    this.#backupTurn = healthyPrimaries === 0 && healthyBackups > 0
    // A pool whose checks have not all answered yet is starting up, not in panic; a healthy backup
    // counts before panic, which would send requests to servers known to be down (#21).
    const panic =
      healthyBackups === 0 &&
      unknownPrimaries === 0 &&
      primaries > 0 &&
      healthyPrimaries / primaries < this.#settings.panicThreshold
    if (panic !== this.#panic) {
      this.#panic = panic
      const details = { pool: this.#pool, healthy: healthyPrimaries, servers: primaries }
      if (panic) this.#events.warn('pool in panic mode: too few healthy servers, sending to all', details)
      else this.#events.info('pool out of panic mode', details)
    }
  }

  #usable(s: Server, backups: boolean): boolean {
    const state = s.state
    if (s.backup !== backups || state.draining) return false
    if (s.maxConns > 0 && state.inFlight >= (state.lease?.slots ?? s.maxConns)) return false
    return this.#panic ? this.#known(s) : this.#healthy(s)
  }

  /** Whether active checks have spoken for `s`, or need not have. */
  #known(s: Server): boolean {
    return !this.#settings.checked || s.state.health !== 'unknown' || this.#settings.unknownTakesTraffic
  }

  #healthy(s: Server): boolean {
    const state = s.state
    if (state.ejectedUntil !== 0) return false
    if (!this.#settings.checked) return true
    return state.health === 'healthy' || (state.health === 'unknown' && this.#settings.unknownTakesTraffic)
  }
}
