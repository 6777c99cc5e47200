import { once } from 'node:events'
import { createServer, type Server as HttpServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

/** A backend started for one test: its `host:port` and the node server behind it. */
export interface Backend {
  readonly address: string
  readonly server: HttpServer
}

/**
 * Starts a backend on a free loopback port, closed when the test ends. Without a handler it
 * answers every request with its name, in the body and in `x-backend`.
 */
export async function startBackend(t: TestContext, name: string, handler?: RequestListener): Promise<Backend> {
  const server = createServer(
    handler ??
      ((_req, res) => {
        res.setHeader('x-backend', name)
        res.end(name)
      }),
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}
