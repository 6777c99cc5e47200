import { createHmac } from 'node:crypto'
import type { Server } from '../server.ts'
import type { Balancer, BalancerOptions } from './balancer.ts'
import { pairValue } from './hash-key.ts'
import { roundRobin } from './round-robin.ts'

/**
 * Sticky sessions by a cookie Portico sets. The cookie's value is an HMAC of the pool and server
 * under a secret key, so a client can neither read a server address from it nor forge one: a
 * value that names no server is ignored. When the cookie names no usable server, the fallback
 * balancer chooses and the response carries a new cookie (`Secure` when the client came over TLS).
 * With a shared table, a value another instance signed (with another key) is honoured too.
 */
export function sticky(initial: readonly Server[], options: BalancerOptions): Balancer {
  const settings = options.sticky!
  const fallback = options.fallback ?? roundRobin(initial)
  let byValue = new Map<string, Server>()
  let setCookie = new Map<Server, string>()
  let setSecureCookie = new Map<Server, string>()
  let byAddress = new Map<string, Server>()
  const index = (servers: readonly Server[]) => {
    byValue = new Map()
    byAddress = new Map()
    setCookie = new Map()
    setSecureCookie = new Map()
    const attributes = `; Path=/; HttpOnly; SameSite=Lax${settings.maxAgeS === undefined ? '' : `; Max-Age=${settings.maxAgeS}`}`
    for (const s of servers) {
      const value = createHmac('sha256', settings.secret)
        .update(`${options.pool}/${s.address}`)
        .digest('base64url')
        .slice(0, 22)
      byValue.set(value, s)
      byAddress.set(s.address, s)
      setCookie.set(s, `${settings.cookie}=${value}${attributes}`)
      setSecureCookie.set(s, `${settings.cookie}=${value}${attributes}; Secure`)
    }
    settings.table?.announce(options.pool, new Map([...byValue].map(([value, s]) => [value, s.address])))
  }
  // A value another instance signed: the server it names, when this pool has it too.
  const pinnedElsewhere = (value: string) => {
    const address = settings.table?.lookup(options.pool, value)
    return address === undefined ? undefined : byAddress.get(address)
  }
  index(initial)
  return {
    pick(x, usable) {
      const value = pairValue(x.req.headers.cookie, settings.cookie, ';')
      const pinned = value === undefined ? undefined : (byValue.get(value) ?? pinnedElsewhere(value))
      if (pinned && usable(pinned)) return pinned
      const s = fallback.pick(x, usable)
      if (s) x.setCookie = (x.secure ? setSecureCookie : setCookie).get(s)
      return s
    },
    release(s, result) {
      fallback.release?.(s, result)
    },
    update(servers) {
      fallback.update?.(servers)
      index(servers)
    },
  }
}
