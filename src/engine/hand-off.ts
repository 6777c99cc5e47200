import type { Socket } from 'node:net'

/**
 * Gives a connection to a server, as its 'connection' listener `serve`, after some of its bytes were
 * read to choose the server: `read` (none when undefined or empty) is put back first, so the server
 * sees the connection from its first byte.
 */
export function handOff(socket: Socket, read: Buffer | undefined, serve: (socket: Socket) => void): void {
  socket.pause()
  if (read !== undefined && read.length > 0) socket.unshift(read)
  serve(socket)
  // node:http reads the socket's handle directly; resuming flushes the bytes put back first.
  socket.resume()
}
