import type { Exchange } from '../exchange.ts'
import type { AttemptResult, Balancer } from './balancers/balancer.ts'
import type { Server } from './server.ts'

/** Timeouts towards one pool's servers, in milliseconds. */
export interface BackendTimeouts {
  readonly connectMs: number
  readonly responseHeadersMs: number
  readonly bodyIdleMs: number
}

/** A named set of servers. The pool decides which servers are usable; its balancer chooses among them. */
export class Pool {
  readonly name: string
  readonly servers: readonly Server[]
  readonly hostHeader: string | undefined
  readonly timeouts: BackendTimeouts
  readonly #balancer: Balancer

  constructor(
    name: string,
    servers: readonly Server[],
    balancer: Balancer,
    hostHeader: string | undefined,
    timeouts: BackendTimeouts,
  ) {
    this.name = name
    this.servers = servers
    this.#balancer = balancer
    this.hostHeader = hostHeader
    this.timeouts = timeouts
  }

  /** A server for the next attempt, never one in `tried`; undefined when none is usable. */
  pick(x: Exchange, tried: Server | undefined): Server | undefined {
    const s = this.#balancer.pick(x, tried === undefined ? always : (c) => c !== tried)
    if (s) s.state.inFlight++
    return s
  }

  /** Ends an attempt that `pick` began. */
  release(s: Server, result: AttemptResult): void {
    s.state.inFlight--
    this.#balancer.release?.(s, result)
  }
}

const always = () => true
