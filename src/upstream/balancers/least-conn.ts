import { type Server, weightOf } from '../server.ts'
import type { Balancer } from './balancer.ts'

/**
 * Weighted least connections: the usable server with the fewest requests in flight per unit of
 * weight. Ties go round the servers in turn, so an idle pool still spreads its load.
 */
export function leastConn(initial: readonly Server[]): Balancer {
  let servers = initial
  let next = 0
  return {
    pick(_x, usable) {
      const n = servers.length
      let best: Server | undefined
      let bestScore = Infinity
      for (let k = 0; k < n; k++) {
        const s = servers[(next + k) % n]!
        const w = weightOf(s)
        if (w === 0 || !usable(s)) continue
        const score = (s.state.inFlight + 1) / w
        if (score < bestScore) {
          best = s
          bestScore = score
        }
      }
      next = (next + 1) % Math.max(n, 1)
      return best
    },
    update(list) {
      servers = list
      next = 0
    },
  }
}
