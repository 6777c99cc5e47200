import { once } from 'node:events'
import { Agent, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import httpProxy from 'http-proxy'

/**
 * node-http-proxy in front of `--origin` (HTTP) and `--ws` (WebSocket), as its README sets it up,
 * with a keep-alive agent towards the origin. Prints its port as one JSON line on stdout.
 */
const [origin, ws] = process.argv.slice(2)
const agent = new Agent({ keepAlive: true, maxSockets: 128 })
const proxy = httpProxy.createProxyServer({ agent, xfwd: true })
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502)
  res.end()
})
const server = createServer((req, res) => proxy.web(req, res, { target: `http://${origin}` }))
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head, { target: `ws://${ws}` }))
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1')
await once(server, 'listening')
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
