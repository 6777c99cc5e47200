import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'

/** A loopback `host:port` that nothing listens on: a port just bound and released again. */
export async function closedPort(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `127.0.0.1:${port}`
}
