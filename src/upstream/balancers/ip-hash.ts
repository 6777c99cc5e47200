import type { Server } from '../server.ts'
import type { Balancer } from './balancer.ts'
import { hash32, Ring } from './ring.ts'

/** Client address hashing on a consistent ring: a client keeps its server while that server is usable. */
export function ipHash(initial: readonly Server[]): Balancer {
  let ring = new Ring(initial)
  return {
    pick: (x, usable) => ring.find(hash32(x.clientAddress), usable),
    update(servers) {
      ring = new Ring(servers)
    },
  }
}
