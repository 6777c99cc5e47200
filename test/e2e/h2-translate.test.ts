import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import {
  connect,
  createSecureServer,
  createServer,
  type IncomingHttpHeaders as H2Headers,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'
import { request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

type H2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void

/** An HTTP/2 backend on a free port: h2c, or h2 over TLS when `tls` is given. */
async function startH2Backend(t: TestContext, handler: H2Handler, tls?: { cert: Buffer; key: Buffer }) {
  const server: Http2Server = tls ? createSecureServer(tls, handler) : createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const sessions = new Set<{ destroy(): void }>()
  server.on('session', (s) => sessions.add(s))
  t.after(() => {
    for (const s of sessions) s.destroy()
    server.close()
  })
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** One HTTP/2 request with prior knowledge; resolves with the response head, body and trailers. */
async function h2Request(url: string, headers: H2Headers, body?: string[]) {
  const session = connect(url)
  try {
    const stream = session.request(headers, { endStream: body === undefined })
    for (const chunk of body ?? []) stream.write(chunk)
    if (body) stream.end()
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    let trailers: H2Headers | undefined
    stream.on('trailers', (t: H2Headers) => (trailers = t))
    const [head] = (await once(stream, 'response')) as [H2Headers]
    await once(stream, 'end')
    return { head, body: Buffer.concat(chunks).toString(), trailers }
  } finally {
    session.close()
  }
}

test('an HTTP/2 client reaches an HTTP/1.1 backend: no pseudo-headers, one cookie line, streamed body, trailers back', async (t) => {
  let seen: { version: string; headers: IncomingHttpHeaders; raw: string[]; body: string } | undefined
  const backend = await startBackend(t, 'h1', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen = {
        version: req.httpVersion,
        headers: req.headers,
        raw: req.rawHeaders,
        body: Buffer.concat(chunks).toString(),
      }
      res.writeHead(201, { connection: 'x-hop', 'x-hop': 'dropped', 'keep-alive': 'timeout=5', trailer: 'x-checksum' })
      res.write('made ')
      res.addTrailers({ 'x-checksum': 'abc123' })
      res.end('it')
    })
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const reply = await h2Request(
    proxy.url,
    {
      ':method': 'POST',
      ':path': '/items?x=1',
      ':authority': 'shop.test',
      cookie: ['a=1', 'b=2'] as unknown as string,
      te: 'trailers',
    },
    ['part one, ', 'part two'],
  )
  assert.equal(reply.head[':status'], 201)
  assert.equal(reply.body, 'made it')
  assert.equal(reply.trailers?.['x-checksum'], 'abc123')
  assert.equal(reply.head['x-hop'], undefined)
  assert.equal(reply.head['keep-alive'], undefined)
  assert.equal(reply.head.via, '1.1 portico')

  assert.ok(seen)
  assert.equal(seen.version, '1.1')
  assert.equal(seen.body, 'part one, part two')
  assert.equal(seen.headers.host, 'shop.test')
  assert.equal(seen.headers.cookie, 'a=1; b=2')
  assert.equal(seen.raw.filter((n, i) => i % 2 === 0 && n.toLowerCase() === 'cookie').length, 1)
  assert.ok(!seen.raw.some((n, i) => i % 2 === 0 && n.startsWith(':')), 'no pseudo-header reaches HTTP/1.1')
  assert.equal(seen.headers.via, '2 portico')
})

test('an HTTP/1.1 client reaches an HTTP/2 backend (h2c and h2 over TLS), with trailers back', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('backend.test', ['backend.test'])
  const handler: H2Handler = (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      res.setHeader('x-version', req.httpVersion)
      res.setHeader('x-authority', String(req.headers[':authority']))
      res.setHeader('x-te', String(req.headers.te))
      res.addTrailers({ 'x-sum': String(chunks.reduce((n, c) => n + c.length, 0)) })
      res.end(`got ${Buffer.concat(chunks)}`)
    })
  }
  const h2c = await startH2Backend(t, handler)
  const h2tls = await startH2Backend(t, handler, { cert: readFileSync(site.cert), key: readFileSync(site.key) })
  const proxy = await startPortico(t, {
    pools: {
      h2c: { servers: [h2c], protocol: 'h2' },
      tls: { servers: [h2tls], protocol: 'h2', tls: { ca: ca.cert, server_name: 'backend.test' } },
    },
    routes: [
      { match: { path: '/h2c' }, pool: 'h2c' },
      { match: { path: '/tls' }, pool: 'tls' },
    ],
  })
  for (const path of ['/h2c', '/tls']) {
    const reply = await request(`${proxy.url}${path}`, {
      method: 'PUT',
      headers: { host: 'app.test', te: 'trailers', connection: 'keep-alive, te' },
      body: 'hello',
    })
    assert.equal(reply.status, 200, path)
    assert.equal(reply.body, 'got hello', path)
    assert.equal(reply.headers['x-version'], '2.0', path)
    assert.equal(reply.headers['x-authority'], 'app.test', path)
    assert.equal(reply.headers['x-te'], 'trailers', path)
    assert.equal(reply.trailers['x-sum'], '5', path)
  }
})
