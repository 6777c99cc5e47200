import type { Server } from '../server.ts'
import type { Balancer, BalancerOptions } from './balancer.ts'
import { weightedPick } from './weighted-pick.ts'

/** Weighted random: each usable server with a chance in proportion to its weight. */
export function random(initial: readonly Server[], options: BalancerOptions): Balancer {
  let servers = initial
  return {
    pick: (_x, usable) => weightedPick(servers, usable, options.random()),
    update(list) {
      servers = list
    },
  }
}
