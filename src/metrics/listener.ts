import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { splitAddress } from '../values/address.ts'
import { metricsContentType, metricsText } from './exposition.ts'

/** The metrics listener: its URL, and how to close it. */
export interface MetricsListener {
  /** `http://host:port/metrics`, port 0 resolved. */
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (and HEAD) on `address` with `metricsText()`; anything else is 404, and
 * other methods 405. Rejects when the address cannot be bound.
 */
export async function listenMetrics(address: string): Promise<MetricsListener> {
  const { host, port } = splitAddress(address)!
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]
    if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
    }
    metricsText().then(
      (text) => res.writeHead(200, { 'content-type': metricsContentType }).end(req.method === 'HEAD' ? '' : text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    )
  })
  server.listen({ host, port })
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))])
  const bound = server.address() as AddressInfo
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  return {
    url: `http://${urlHost}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
