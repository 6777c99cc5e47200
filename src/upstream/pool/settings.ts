import type { FailureCode } from '../../errors.ts'
import type { Exchange } from '../../exchange.ts'
import type { SlotLeases } from '../../instance/slot-leases.ts'
import type { EventLog } from '../../log/events.ts'
import type { ActiveCheckSettings } from '../health/active.ts'
import type { OutlierSettings } from '../health/outlier.ts'
import type { RetryBudget } from '../retry-budget.ts'
import type { Server } from '../server.ts'
import type { SharedMap } from './check-verdicts.ts'
import type { Pool } from './pool.ts'

/** Timeouts towards one pool's servers, in milliseconds. */
export interface BackendTimeouts {
  readonly connectMs: number
  readonly responseHeadersMs: number
  readonly bodyIdleMs: number
}

/** When and how often a failed attempt is tried again on another server. */
export interface RetrySettings {
  /** Most attempts per request, the first included. */
  readonly attempts: number
  /** Time an attempt may wait for response headers before it fails with a timeout, in milliseconds. */
  readonly perTryMs: number
  readonly budget: RetryBudget
}

/** Everything a pool is built from besides its servers and balancer; durations in milliseconds. */
export interface PoolSettings {
  readonly hostHeader: string | undefined
  readonly timeouts: BackendTimeouts
  readonly retries: RetrySettings
  /** Most requests in flight to the whole pool; further ones queue. */
  readonly maxInFlight: number
  readonly queueLength: number
  readonly queueTimeoutMs: number
  /** `Retry-After` seconds on the pool's 503 answers. */
  readonly retryAfterS: number
  /** Time over which a server that joins or recovers ramps up to its full weight; 0 for at once. */
  readonly slowStartMs: number
  /** Servers new to a pool that already served: they ramp up under slow start. */
  readonly joining: readonly Server[]
  /**
   * Below this share of healthy primary servers, with no healthy backup either, health is ignored
   * (panic mode); 0, the default, never panics.
   */
  readonly panicThreshold: number
  readonly active: ActiveCheckSettings | undefined
  /** Whether a server takes traffic before its first active check has answered. */
  readonly unknownTakesTraffic: boolean
  readonly outlier: OutlierSettings
}

/** What waits for a server: told to start on one, or why it will get none. */
export interface Ticket {
  readonly x: Exchange
  /** The servers this exchange already tried; none of them is chosen unless no other is usable. */
  readonly tried: readonly Server[] | undefined
  /** Starts on `server`, picked by `pool`: the pool it was queued in, or the one that took over its queue on reload. */
  start(server: Server, pool: Pool): void
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void
}

/** What a pool needs from the process: the event log, the clock, and a way to forget removed servers. */
export interface PoolDeps {
  readonly events: EventLog
  /** Milliseconds on a monotonic clock; `performance.now` unless a test injects its own. */
  readonly now?: () => number
  /** Called when `remove` takes a server out for good. */
  readonly forget?: (server: Server) => void
  /**
   * State shared by every process of the machine: only its leader runs the active checks, and
   * their verdicts reach every process through it. A lone leader of the pool's own unless given.
   */
  readonly shared?: SharedMap
  /**
   * With several workers, the `max_conns` slots this worker holds: a server is full when its
   * requests in flight from here reach them. Default: this process has all of `max_conns`.
   */
  readonly leases?: SlotLeases
}
