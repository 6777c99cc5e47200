import { connect } from 'node:net'
import type { Server } from '../server.ts'

/** Opens and closes one TCP connection to `server`: undefined when it connected, else why not. Never rejects. */
export function tcpProbe(server: Server, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: server.host, port: server.port, timeout: timeoutMs })
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve('timeout')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}
