import { once } from 'node:events'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import type { TestContext } from 'node:test'

/** A backend that speaks raw TCP, for servers that misbehave in ways node's http server cannot. */
export interface RawBackend {
  readonly address: string
  readonly server: NetServer
  /** How many TCP connections it accepted. */
  connections(): number
}

/**
 * Starts a TCP server on a free loopback port, closed when the test ends. `onRequest` runs for each
 * request head received (`index` counts requests on that connection, from 0); request bodies are
 * not supported.
 */
export async function startRawBackend(
  t: TestContext,
  onRequest: (socket: Socket, head: string, index: number) => void,
): Promise<RawBackend> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffered = ''
    let index = 0
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1')
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end)
        buffered = buffered.slice(end + 4)
        onRequest(socket, head, index++)
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const { port } = server.address() as { port: number }
  return { address: `127.0.0.1:${port}`, server, connections: () => accepted }
}
