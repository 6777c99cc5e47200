import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { jsonBody } from './json-body.ts'

/**
 * The node origin, run as its own process: `GET /1k` and `GET /100k` answer that many bytes
 * (`/c/1k` and `/c/100k` the same with `Cache-Control: max-age=3600`),
 * `GET /json` about 100 KiB of JSON, `POST /post` reads the body and answers `ok`, and `/ws`
 * echoes every WebSocket message. Prints its port as one JSON line on stdout.
 */
const text = 'text/plain'
const bodies: Record<string, { type: string; body: Buffer }> = {
  '/1k': { type: text, body: Buffer.alloc(1024, 'a') },
  '/100k': { type: text, body: Buffer.alloc(100 * 1024, 'b') },
  '/json': { type: 'application/json', body: jsonBody(100 * 1024) },
}
const ok = { type: text, body: Buffer.from('ok\n') }
const cacheable = { 'cache-control': 'max-age=3600' }

const server = createServer((req, res) => {
  if (req.method === 'POST') {
    req.on('data', ignore)
    req.on('end', () => {
      res.writeHead(200, { 'content-type': ok.type, 'content-length': ok.body.length })
      res.end(ok.body)
    })
    return
  }
  const url = req.url ?? ''
  const cached = url.startsWith('/c/')
  const { type, body } = bodies[cached ? url.slice(2) : url] ?? ok
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, ...(cached ? cacheable : {}) })
  res.end(body)
})
server.keepAliveTimeout = 60_000
const wss = new WebSocketServer({ server, path: '/ws' })
wss.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })))

server.listen(0, '127.0.0.1')
await once(server, 'listening')
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)

function ignore(): void {}
