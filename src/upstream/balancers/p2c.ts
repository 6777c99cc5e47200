import { type Server, weightOf } from '../server.ts'
import type { Balancer, BalancerOptions } from './balancer.ts'
import { weightedPick } from './weighted-pick.ts'

/**
 * Power of two choices: draws two usable servers at random by weight and takes the one with the
 * lower cost, requests in flight times the latency average. It avoids a slow or busy server
 * without the herd that pure least-latency causes.
 */
export function p2c(initial: readonly Server[], options: BalancerOptions): Balancer {
  let servers = initial
  return {
    pick(_x, usable) {
      const a = weightedPick(servers, usable, options.random())
      if (!a) return undefined
      // Drawn with replacement: both draws land on the slowest server now and then, so its
      // latency average keeps being measured and it is never starved (USERS #12).
      const b = weightedPick(servers, usable, options.random())!
      return cost(b) < cost(a) ? b : a
    },
    update(list) {
      servers = list
    },
  }
}

function cost(s: Server): number {
  // 1 ms floor: a server not yet measured competes on its load, not on a zero latency.
  return ((s.state.inFlight + 1) * Math.max(s.state.latencyEwmaMs, 1)) / weightOf(s)
}
