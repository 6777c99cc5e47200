import type { Lease } from '../instance/slot-leases.ts'
import type { ServerConnections } from './transport.ts'

/** What active checks think of a server: `unknown` until the first check has answered. */
export type Health = 'unknown' | 'healthy' | 'unhealthy'

/** Why a server is out (or last changed state): shown by the admin API (USERS #11). */
export interface HealthReason {
  /** `active` (a health check), `passive` (outlier detection), `admin` (drained by hand). */
  readonly source: 'active' | 'passive' | 'admin'
  /** What was seen: `status 503`, `ECONNREFUSED`, `5 consecutive backend_refused`, … */
  readonly detail: string
  /** `Date.now()` when the state changed. */
  readonly since: number
}

/**
 * Live state of one server, kept outside the Plan in a registry keyed by `pool/address`, so a
 * reload that keeps the server keeps its connections, counters and health. Pools and health checks
 * change it; balancers only read it.
 */
export class ServerState {
  /** The keep-alive connections to this server (the transport contract, transport.ts). */
  readonly dispatcher: ServerConnections
  /** Requests in flight to this server right now. */
  inFlight = 0
  /**
   * With several workers and `max_conns`, the slots this worker holds, lent by the primary: at most
   * that many requests in flight from here. Undefined when this process holds all of `max_conns`.
   */
  lease: Lease | undefined = undefined
  /** Moving average of the time to response headers, in milliseconds; 0 before the first answer. */
  latencyEwmaMs = 0
  /** Result of active checks. */
  health: Health = 'unknown'
  /** Checks in a row that passed (or failed) since the last change, for `rise` and `fall`. */
  checkStreak = 0
  /** Failed attempts in a row, for outlier detection. */
  consecutiveFailures = 0
  /** `performance.now()` until which outlier detection keeps the server out; 0 when it is in. */
  ejectedUntil = 0
  /** How many times in a row the server was ejected; the next ejection lasts longer. */
  ejections = 0
  /** How many times outlier detection ejected the server in this process, for metrics. */
  ejectionsTotal = 0
  /** `performance.now()` of the last return from ejection, for forgetting old ejections. */
  returnedAt = 0
  /** No new requests; those in flight finish. */
  draining = false
  /** `performance.now()` from which slow start ramps this server's share up. */
  rampFrom = 0
  /** Share of the configured weight the server takes now, from slow start: (0, 1]. */
  ramp = 1
  /** The last change of health, ejection or draining, and why. */
  reason: HealthReason | undefined = undefined
  /** How many times health, ejection or draining changed, for metrics. */
  transitions = 0

  /** A new connection of its own to this server, for one request. */
  readonly fresh: () => ServerConnections
  /** Requests that were in flight here when the server last dropped one, and have not ended since. */
  #downWith = 0
  /** `performance.now()` of that drop: only requests sent before it count. */
  #downAt = 0

  constructor(dispatcher: ServerConnections, fresh: () => ServerConnections) {
    this.dispatcher = dispatcher
    this.fresh = fresh
  }

  /**
   * Ends one attempt on this server, sent at `sentAt` and ending at `now` (`performance.now()`),
   * before the pool releases it; `dropped` when the server closed or reset its connection before
   * any answer. Returns true for a drop of a request that was already in flight when an earlier
   * one was dropped: the server went down with several requests in flight (a crash, a kill), and
   * this is one of them. Any end of such a request counts it off, so a server that dropped one
   * request and answers the others soon counts nothing; requests sent since do not count.
   */
  attemptEnded(dropped: boolean, sentAt: number, now: number): boolean {
    if (this.#downWith > 0 && sentAt <= this.#downAt) {
      this.#downWith--
      return dropped
    }
    if (dropped && this.#downWith === 0) {
      // The others in flight now: this attempt is still counted in inFlight.
      this.#downWith = this.inFlight - 1
      this.#downAt = now
    }
    return false
  }

  /**
   * Counts a change of state and records why. A server that comes back on one count while still
   * out on another (`stillOut`) keeps the reason it is out for.
   */
  changed(source: HealthReason['source'], detail: string, stillOut = false): void {
    this.transitions++
    if (!stillOut) this.reason = { source, detail, since: Date.now() }
  }
}

/** One backend address in a pool, as the Plan sees it. */
export interface Server {
  /** `host:port`, as configured. */
  readonly address: string
  readonly host: string
  readonly port: number
  /** `http://host:port`: with the pool name, the key of its live state. */
  readonly origin: string
  /** Relative share of requests; 0 takes none. */
  readonly weight: number
  /** Most requests in flight at once; further ones wait in the pool's queue. 0 means no limit. */
  readonly maxConns: number
  /** Takes requests only when no primary server is usable. */
  readonly backup: boolean
  readonly state: ServerState
}

/** The share a balancer gives `s` now: its weight, scaled down while slow start ramps it up. */
export function weightOf(s: Server): number {
  return s.weight * s.state.ramp
}
