import { type Server, weightOf } from '../server.ts'
import type { Balancer } from './balancer.ts'

/**
 * Smooth weighted round robin (as nginx does it): every pick adds each usable server's weight to
 * its running score, takes the highest and subtracts the total. Weights 5,1,1 give a a b a c a a,
 * never five a's in a row.
 */
export function roundRobin(initial: readonly Server[]): Balancer {
  let servers = initial
  let scores = new Float64Array(servers.length)
  return {
    pick(_x, usable) {
      let total = 0
      let best = -1
      for (let i = 0; i < servers.length; i++) {
        const s = servers[i]!
        const w = weightOf(s)
        if (w === 0 || !usable(s)) continue
        scores[i]! += w
        total += w
        if (best < 0 || scores[i]! > scores[best]!) best = i
      }
      if (best < 0) return undefined
      scores[best]! -= total
      return servers[best]
    },
    update(next) {
      servers = next
      scores = new Float64Array(next.length)
    },
  }
}
