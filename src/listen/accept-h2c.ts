import type { Http2Server } from 'node:http2'
import type { Socket } from 'node:net'
import { handOff } from '../engine/index.ts'
import type { Link } from './chain.ts'

// RFC 9113 §3.4: every HTTP/2 connection with prior knowledge opens with this preface.
const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

/**
 * The h2c link of the connection chain: gives each connection that opens with the HTTP/2 preface
 * to `h2` (h2c with prior knowledge, RFC 9113 §3.3), which never listens itself, and any other to
 * the next link. A connection that sends nothing within `firstByteMs()` is closed.
 */
export function acceptH2c(h2: Http2Server, firstByteMs: () => number): Link {
  return (next) => (socket: Socket) => {
    socket.on('error', destroy)
    socket.setTimeout(firstByteMs(), destroy)
    socket.once('data', (chunk: Buffer) => {
      socket.removeListener('error', destroy)
      socket.removeListener('timeout', destroy)
      socket.setTimeout(0)
      // A first read shorter than the preface that matches it so far is taken as HTTP/2: no
      // HTTP/1.1 request starts with "PRI".
      const n = Math.min(chunk.length, preface.length)
      if (chunk.subarray(0, n).equals(preface.subarray(0, n))) {
        socket.pause()
        socket.unshift(chunk)
        h2.emit('connection', socket)
        return
      }
      handOff(socket, chunk, next)
    })
  }
}

function destroy(this: Socket): void {
  this.destroy()
}
