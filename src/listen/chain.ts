import type { Server as NetServer, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { takeListeners } from '../engine/index.ts'

/** Takes a connection: keeps it, closes it, or passes it to the next link. */
export type Serve = (socket: Socket) => void

/** One link of the connection chain: given the link after it, what it does with each connection. */
export type Link = (next: Serve) => Serve

/**
 * What a connection passes before a request exists, in this order (the chart in
 * docs/ARCHITECTURE.md draws it). A link left undefined is skipped.
 */
export interface ConnectionChain {
  /** PROXY protocol v1 or v2: the header is read before any other byte (proxy-protocol.ts). */
  readonly proxyProtocol?: Link | undefined
  /** Connection limits and client lists, on the address a trusted PROXY header named (connection-gate.ts). */
  readonly gate?: Link | undefined
  /** The group's connection rate through Redis (`connections.group_rate`), after this instance's own limits (group-rate.ts). */
  readonly groupRate?: Link | undefined
  /** TLS listeners with `acme`: ACME TLS-ALPN-01 validations, answered before the handshake (tls/acme/tls-alpn.ts). */
  readonly acmeTlsAlpn?: Link | undefined
  /**
   * Whether the listener is TLS: node's TLS server then makes the handshake (certificate by SNI,
   * https.ts), and ALPN `h2` goes to node's HTTP/2 server, anything else on to {@link own}.
   */
  readonly tls: boolean
  /**
   * Plain listeners with HTTP/2: a connection that opens with the HTTP/2 preface goes to node's
   * HTTP/2 server, anything else on to {@link own} (accept-h2c.ts). Not used with TLS.
   */
  readonly h2c?: Link | undefined
  /** Portico's own HTTP/1.1 server; a connection it does not serve goes on to node's HTTP/1.1 server. */
  readonly own: Link
}

/**
 * Makes `server` (node's HTTP/1.1 server, or its TLS server with HTTP/2 and HTTP/1.1) pass each
 * new connection through `chain` before its own handlers, which become the chain's last link.
 * Called once, before the server listens and before any other 'connection' listener is added.
 */
export function installChain(server: NetServer, chain: ConnectionChain): void {
  if (!chain.tls) {
    const node = takeListeners(server, 'connection')
    server.on('connection', link([chain.proxyProtocol, chain.gate, chain.groupRate, chain.h2c, chain.own], node))
    return
  }
  // Node's TLS handler is the last link before the handshake; the rest runs once it is done.
  const handshake = takeListeners(server, 'connection')
  server.on('connection', link([chain.proxyProtocol, chain.gate, chain.groupRate, chain.acmeTlsAlpn], handshake))
  const node = takeListeners(server, 'secureConnection')
  server.on('secureConnection', link([alpnH2(node), chain.own], node))
}

/** ALPN: a connection that chose HTTP/2 goes to node's HTTP/2 server, any other on. */
function alpnH2(nodeServes: Serve): Link {
  return (next) => (socket) => ((socket as TLSSocket).alpnProtocol === 'h2' ? nodeServes(socket) : next(socket))
}

/** The links in order, then `last`: the first link sees each connection first. */
function link(links: readonly (Link | undefined)[], last: Serve): Serve {
  let serve = last
  for (let i = links.length - 1; i >= 0; i--) serve = links[i]?.(serve) ?? serve
  return serve
}
