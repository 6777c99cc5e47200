import type { Exchange } from '../../exchange.ts'
import type { Server } from '../server.ts'

/** How an attempt ended, as a balancer sees it. */
export interface AttemptResult {
  readonly ok: boolean
  /** Time from dispatch to response headers, in milliseconds; undefined when none came. */
  readonly latencyMs?: number
}

/** Chooses servers. The pool decides which are usable; the balancer only chooses among them. */
export interface Balancer {
  /** Chooses a server that `usable` accepts, or returns undefined. Runs on every attempt: no I/O, no allocation. */
  pick(x: Exchange, usable: (s: Server) => boolean): Server | undefined
  /** Ends every attempt, ok or not. */
  release?(s: Server, result: AttemptResult): void
  /** Servers or weights changed: rebuild any index here, never inside pick(). */
  update?(servers: readonly Server[]): void
}

/** Builds a balancer for one pool's servers. */
export type BalancerFactory = (servers: readonly Server[]) => Balancer
