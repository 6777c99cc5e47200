import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Arrival, ClientRequest, ListenerStatus } from '../exchange.ts'
import type { Plan } from '../plan/plan.ts'
import type { PathRules } from '../route/routing-path.ts'
import { tlsFacts } from '../tls/facts.ts'
import { proxiedPeer } from './proxy-protocol.ts'
import type { ListenerConfig, PathsConfig } from './schema.ts'

/**
 * What a listener tells each exchange about where it arrived: TLS or not and its facts, whether the
 * connection comes from a trusted proxy (by the address a trusted PROXY header named, when the
 * listener reads one), the listener's HSTS value and path rules. `status` is the listener's own,
 * which it changes as it drains. Built once per listener; the returned function runs per request.
 * A TLS connection's arrival is made once per connection (and plan): every request on it shares it.
 */
export function arrivals(
  config: ListenerConfig,
  status: ListenerStatus,
): (req: ClientRequest, current: Plan) => Arrival {
  const secure = Boolean(config.tls)
  const proxyProtocol = config.proxy_protocol
  const hsts = config.tls?.hsts ? hstsValue(config.tls.hsts) : undefined
  // A plain connection without PROXY protocol has nothing of its own to say: one of two shared arrivals.
  const plain = !secure && !proxyProtocol
  const paths = pathRules(config.paths)
  const underscoresInHeaders = config.underscores_in_headers
  const fromTrusted: Arrival = { secure, trusted: true, listener: status, paths, underscoresInHeaders }
  const fromUntrusted: Arrival = { secure, trusted: false, listener: status, paths, underscoresInHeaders }
  const known = new WeakMap<Socket, { plan: Plan; arrival: Arrival }>()
  return (req, current) => {
    if (plain) return current.trusted.has(req.socket.remoteAddress ?? '') ? fromTrusted : fromUntrusted
    // An HTTP/2 request's socket is its connection's too (engine/h2/request.ts).
    const socket = req.socket
    const seen = known.get(socket)
    if (seen?.plan === current) return seen.arrival
    const peer = proxyProtocol ? proxiedPeer(socket) : undefined
    const arrival: Arrival = {
      secure,
      trusted: current.trusted.has(peer?.address ?? socket.remoteAddress ?? ''),
      peer,
      tls: secure ? tlsFacts(socket as TLSSocket) : undefined,
      hsts,
      listener: status,
      paths,
      underscoresInHeaders,
    }
    known.set(socket, { plan: current, arrival })
    return arrival
  }
}

/** A listener's `paths` settings as the router applies them. */
export function pathRules(paths: PathsConfig): PathRules {
  return {
    escapedSlashes: paths.escaped_slashes,
    parameters: paths.parameters,
    ignoreCase: paths.case_insensitive,
  }
}

function hstsValue(hsts: NonNullable<NonNullable<ListenerConfig['tls']>['hsts']>): string {
  return `max-age=${hsts.max_age}${hsts.include_subdomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`
}
