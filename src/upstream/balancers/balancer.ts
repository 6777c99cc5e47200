import type { FailureCode } from '../../errors.ts'
import type { Exchange } from '../../exchange.ts'
import type { Server } from '../server.ts'

/** How an attempt ended, as a balancer and outlier detection see it. */
export interface AttemptResult {
  readonly ok: boolean
  /** The failure, when the attempt failed. */
  readonly code?: FailureCode
  /** The response status, when one came. */
  readonly status?: number
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

/** Where `hash` takes its key from. */
export interface HashKeySource {
  readonly from: 'header' | 'cookie' | 'query' | 'path'
  /** Header, cookie or query argument name; empty for `path`. */
  readonly name: string
}

/** Settings of the `sticky` balancer. */
export interface StickySettings {
  readonly cookie: string
  /** Key that signs cookie values. */
  readonly secret: string | Buffer
  /** Cookie lifetime in seconds; undefined makes a session cookie. */
  readonly maxAgeS: number | undefined
  /** Cookie values other instances signed, so that a client one of them pinned keeps its server here. Default: none. */
  readonly table?: StickyTable
}

/**
 * The pins of every instance in a group, each a cookie value and the server it names. A value is
 * fixed by its signing key, pool and server, so each instance announces one per server, and
 * lookups are in a local copy: no I/O when a request is balanced.
 */
export interface StickyTable {
  /** The address of the server `value` pins to in `pool`, as an instance announced it; undefined when unknown. */
  lookup(pool: string, value: string): string | undefined
  /** Tells every instance which cookie value pins each of this instance's servers of `pool` (value → address). */
  announce(pool: string, pins: ReadonlyMap<string, string>): void
}

/** What a balancer is built from besides its servers: the pool's settings and injected randomness. */
export interface BalancerOptions {
  readonly pool: string
  /** For `hash`; undefined hashes nothing and spreads at random. */
  readonly hashKey: HashKeySource | undefined
  readonly sticky: StickySettings | undefined
  /** For `sticky`: chooses when the cookie names no usable server. */
  readonly fallback: Balancer | undefined
  /** A number in [0, 1), as Math.random; tests inject their own. */
  readonly random: () => number
}

/** Builds a balancer for one pool's servers. */
export type BalancerFactory = (servers: readonly Server[], options: BalancerOptions) => Balancer
