import type { Socket } from 'node:net'
import { handOff } from '../engine/index.ts'
import type { EventLog } from '../log/events.ts'
import type { Link } from './chain.ts'
import { proxiedPeer } from './proxy-protocol.ts'

/**
 * Whether one more connection from `client` on `listener` is within the group's rate, by counts
 * every instance shares; resolves true when the counts cannot be reached (the limit fails open).
 */
export type GroupRate = (listener: string, client: string) => Promise<boolean>

/**
 * The group's connection rate as a link of the connection chain (chain.ts), after the gate: a new
 * connection waits, unread, for the decision (one Redis round trip), then is destroyed or handed
 * on from its first byte. It sees the address a trusted PROXY header names, and only connections
 * this instance's own limits let in. Refusals are logged at most once a second.
 */
export function groupRateLink(listener: string, decide: GroupRate, events: EventLog): Link {
  let refused = 0
  let loggedAt = 0
  return (next) => (socket: Socket) => {
    // A client that leaves while the decision is made must not throw.
    const ignore = () => {}
    socket.on('error', ignore)
    const client = clientOf(socket)
    void decide(listener, client).then((allowed) => {
      socket.off('error', ignore)
      if (socket.destroyed) return
      if (allowed) {
        handOff(socket, undefined, next)
        return
      }
      socket.destroy()
      refused++
      const now = Date.now()
      if (now - loggedAt < 1000) return
      events.warn('connection refused', { listener, client, reason: 'group_rate', refused })
      refused = 0
      loggedAt = now
    })
  }
}

/** The client address of a connection: a trusted PROXY header's, else the peer's; IPv4-mapped IPv6 as IPv4. */
function clientOf(socket: Socket): string {
  const address = proxiedPeer(socket)?.address ?? socket.remoteAddress ?? ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
