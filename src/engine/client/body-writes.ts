import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'

/** Whether `body` holds bytes read and not yet taken, which `read()` returns as one Buffer. */
export function bytesWaiting(body: Readable): boolean {
  return (
    body.readableFlowing !== true &&
    body.readableLength > 0 &&
    !body.readableObjectMode &&
    body.readableEncoding === null
  )
}

/** Writes `chunk` as one chunk of a chunked body, in one system call; false when the socket's buffer is full. */
export function writeChunk(socket: Socket, chunk: Buffer): boolean {
  socket.cork()
  socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
  socket.write(chunk)
  const more = socket.write('\r\n', 'latin1')
  socket.uncork()
  return more
}
