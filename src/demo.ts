import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfigInput } from './config/schema.ts'
import { selfSigned } from './tls/self-signed.ts'

type ListenerInput = ConfigInput['listeners'][number]

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
 * own name, so consecutive requests show the balancing. With `openssl` on the machine, it also
 * serves HTTPS and HTTP/2 on 127.0.0.1:8443 (or `HTTPS_PORT`; a free port when `port` is 0) with a
 * fresh self-signed certificate.
 */
export async function startDemo(
  port: number,
  httpsPort = Number(process.env.HTTPS_PORT ?? (port === 0 ? 0 : 8443)),
): Promise<Demo> {
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
  const certDir = mkdtempSync(join(tmpdir(), 'portico-demo-'))
  const https = demoHttps(certDir, httpsPort)
  return {
    addresses,
    config: {
      listeners: [{ address: `127.0.0.1:${port}` }, ...https],
      pools: { demo: { servers: addresses, balancer: 'round_robin' } },
      routes: [{ name: 'demo', pool: 'demo' }],
      // One process, so that consecutive requests show the round robin in turn.
      workers: 1,
    },
    close() {
      rmSync(certDir, { recursive: true, force: true })
      for (const s of servers) {
        s.closeAllConnections()
        s.close()
      }
    },
  }
}

/** The demo's HTTPS listener with a self-signed certificate, or none when openssl is missing. */
function demoHttps(dir: string, port: number): ListenerInput[] {
  try {
    return [{ address: `127.0.0.1:${port}`, tls: { certificates: [selfSigned(dir)] } }]
  } catch {
    return []
  }
}
