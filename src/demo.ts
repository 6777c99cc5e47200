import { once } from 'node:events'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ConfigInput } from './config/schema.ts'

/** The small backends `portico run` starts when no config file is given. */
export interface Demo {
  readonly config: ConfigInput
  readonly addresses: readonly string[]
  close(): void
}

/** The demo's port from the `PORT` environment variable: 8080 when unset, undefined when not a port. */
export function demoPort(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return 8080
  const port = Number(text)
  return /^\d{1,5}$/.test(text) && port <= 65535 ? port : undefined
}

/**
 * Starts three demo backends on free loopback ports and returns the embedded default config:
 * Portico on 127.0.0.1:`port` (0 picks a free one), round robin over them. Each answers with its
 * own name, so consecutive requests show the balancing.
 */
export async function startDemo(port: number): Promise<Demo> {
  const servers: HttpServer[] = []
  for (const name of ['demo-a', 'demo-b', 'demo-c']) {
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.setHeader('x-backend', name)
      res.end(`Hello from ${name}: you asked for ${req.method} ${req.url}\n`)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    servers.push(server)
  }
  const addresses = servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`)
  return {
    addresses,
    config: {
      listeners: [{ address: `127.0.0.1:${port}` }],
      pools: { demo: { servers: addresses, balancer: 'round_robin' } },
      routes: [{ name: 'demo', pool: 'demo' }],
    },
    close() {
      for (const s of servers) {
        s.closeAllConnections()
        s.close()
      }
    },
  }
}
