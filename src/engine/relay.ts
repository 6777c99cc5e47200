import type { Socket } from 'node:net'
import { SocketWriter } from './socket-writer.ts'

/**
 * Relays what `from` reads to `to`, untouched, as it comes, as `from.pipe(to)` would: `count` is
 * told each chunk's size; `from` is paused while `to` holds bytes the kernel has not taken yet,
 * and resumed once they are sent; `from`'s end ends `to` once what was written to it is sent.
 * Plain TCP sockets are written through their handle (SocketWriter), without the writable
 * stream's record, callback and tick per chunk; TLS ones through their stream.
 */
export function relay(from: Socket, to: Socket, count: (bytes: number) => void): void {
  const writer = new SocketWriter(to)
  const resume = (): void => {
    if (!from.destroyed) from.resume()
  }
  from.on('data', (chunk: Buffer) => {
    count(chunk.length)
    if (!writer.write(chunk, resume)) from.pause()
  })
  from.on('end', () => to.end())
}
