import type { Socket } from 'node:net'
import { readFirstBytes } from '../../http/first-bytes.ts'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { ChallengeBoard } from './challenge-board.ts'
import { readClientHello } from './client-hello.ts'

/** The ALPN protocol of TLS-ALPN-01 validation connections (RFC 8737 §6.2). */
export const acmeTls1 = 'acme-tls/1'

// A validation client sends its ClientHello at once; one that does not within this is closed.
const helloTimeoutMs = 10_000

type Serve = (socket: Socket) => void

/**
 * A link of a TLS listener's connection chain (listen/chain.ts) that answers TLS-ALPN-01 validations
 * (RFC 8737) before node's TLS server sees them. Only while `board` holds a TLS-ALPN challenge is a
 * connection's ClientHello read first: one that offers "acme-tls/1" for a name under challenge gets
 * a handshake with that challenge's self-signed certificate, negotiates "acme-tls/1", and is closed;
 * every other connection goes on to `next` from its first byte. Otherwise connections go straight
 * on, with nothing read. Clients never get the challenge certificate: it needs "acme-tls/1".
 */
export function answerTlsAlpn(board: ChallengeBoard): (next: Serve) => Serve {
  return (next) => (socket) => {
    if (!board.alpnPending) return next(socket)
    readFirstBytes(socket, helloTimeoutMs, readClientHello, (hello, buffered) => {
      const context = hello !== 'other' && hello.servername ? board.alpnContext(hello.servername) : undefined
      const validation = hello !== 'other' && hello.protocols.includes(acmeTls1)
      if (validation && !context) return void socket.destroy()
      // The TLS socket made next takes over the connection's handle and reads the bytes put back
      // first; resuming the plain socket would let it read what TLS should.
      socket.pause()
      socket.unshift(buffered)
      if (!validation) return next(socket)
      const tls = lazyBuiltin('node:tls')
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: [acmeTls1] })
      secure.on('error', () => secure.destroy())
      secure.once('secure', () => secure.end())
    })
  }
}
