import type { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'

/**
 * Takes from `server` every listener it has now for `event` ('connection' for node's HTTP/1.1 or
 * TLS handler, 'secureConnection' for node's HTTP/2 and HTTP/1.1 handler once TLS is set up),
 * and returns one function that calls them as the server would. Node's servers see a connection
 * only through these listeners, so whoever holds the function decides which connections node
 * serves: the connection chain (listen/chain.ts) is then the server's only listener for `event`.
 */
export function takeListeners(
  server: EventEmitter,
  event: 'connection' | 'secureConnection',
): (socket: Socket) => void {
  const listeners = server.listeners(event) as ((socket: Socket) => void)[]
  server.removeAllListeners(event)
  if (listeners.length === 1) {
    const only = listeners[0]!
    return (socket) => only.call(server, socket)
  }
  return (socket) => {
    for (const listener of listeners) listener.call(server, socket)
  }
}
