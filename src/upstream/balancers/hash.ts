import type { Server } from '../server.ts'
import type { Balancer, BalancerOptions } from './balancer.ts'
import { hashKey } from './hash-key.ts'
import { hash32, Ring } from './ring.ts'
import { weightedPick } from './weighted-pick.ts'

/**
 * Consistent hashing on a key from the request (header, cookie, query argument or path): the same
 * key reaches the same server while it is usable. A request without the key goes to a server
 * drawn at random by weight rather than piling every keyless request onto one server.
 */
export function hash(initial: readonly Server[], options: BalancerOptions): Balancer {
  let servers = initial
  let ring = new Ring(initial)
  const source = options.hashKey
  return {
    pick(x, usable) {
      const key = source && hashKey(x, source)
      return key === undefined ? weightedPick(servers, usable, options.random()) : ring.find(hash32(key), usable)
    },
    update(list) {
      servers = list
      ring = new Ring(list)
    },
  }
}
