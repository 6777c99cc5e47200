import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createH2Server, type Http2ServerResponse } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { type AddressInfo, connect } from 'node:net'
import { test } from 'node:test'
import { headerRecord } from '../../../src/engine/server/request.ts'
import { startBackend } from '../../helpers/backend.ts'
import { TestCa } from '../../helpers/certs.ts'
import { rawConnection, rawHttp } from '../../helpers/http.ts'
import { startPortico } from '../../helpers/portico.ts'

/** A backend that answers each request with its method, path and body, and the Portico in front of it. */
async function echoProxy(t: import('node:test').TestContext) {
  const backend = await startBackend(t, 'echo', (req, res) => {
    let body = ''
    req.setEncoding('latin1')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`))
  })
  return startPortico(t, { pools: { echo: { servers: [backend.address] } }, routes: [{ pool: 'echo' }] })
}

/** The bodies of the responses in `reply`, in order (each response has a Content-Length). */
function bodies(reply: string): string[] {
  const out: string[] = []
  for (const m of reply.matchAll(/content-length: (\d+)\r\n(?:.*\r\n)*?\r\n/gi)) {
    const start = m.index + m[0].length
    out.push(reply.slice(start, start + Number(m[1])))
  }
  return out
}

test('the header record of a request is the one node would give, duplicates and all', () => {
  const raw = [
    ...['Host', 'a.example', 'host', 'b.example'],
    ...['Cookie', 'a=1', 'cookie', 'b=2'],
    ...['Set-Cookie', 'x=1', 'set-cookie', 'y=2'],
    ...['Accept', 'text/html', 'ACCEPT', 'text/plain'],
    ...['Authorization', 'one', 'authorization', 'two'],
    ...['Content-Type', 'a/b', 'content-type', 'c/d'],
    ...['X-Custom', '1', 'x-custom', '2', 'X-CUSTOM', '3'],
    ...['Constructor', 'c', '__proto__', 'p', 'toString', 't'],
    ...['User-Agent', 'ua1', 'user-agent', 'ua2', 'Age', '1', 'age', '2'],
  ]
  const node = new IncomingMessage(null as never)
  ;(node as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(raw, raw.length)
  assert.deepEqual(headerRecord(raw), node.headers)
})

test('pipelined requests without a body are answered in order on one connection', async (t) => {
  const proxy = await echoProxy(t)
  const head = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: app.example\r\n${extra}\r\n`
  const reply = await rawHttp(proxy.url, head('/a') + head('/b') + head('/c', 'Connection: close\r\n'))
  assert.deepEqual(bodies(reply), ['GET /a ', 'GET /b ', 'GET /c '])
})

test('a request with a body after requests without one on the same connection reaches the backend whole', async (t) => {
  const proxy = await echoProxy(t)
  const reply = await rawHttp(
    proxy.url,
    'GET /one HTTP/1.1\r\nHost: app.example\r\n\r\n' +
      'POST /two HTTP/1.1\r\nHost: app.example\r\nContent-Length: 5\r\n\r\nhello' +
      'GET /three HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n',
  )
  assert.deepEqual(bodies(reply), ['GET /one ', 'POST /two hello', 'GET /three '])
})

test('a request head that arrives in pieces is answered once it is complete', async (t) => {
  const proxy = await echoProxy(t)
  const conn = rawConnection(proxy.url)
  await once(conn.socket, 'connect')
  conn.socket.write('GET /slow HTTP/1.1\r\nHo')
  // The client is slow on purpose: the second piece comes in a later read.
  await new Promise((resolve) => setTimeout(resolve, 50))
  conn.socket.write('st: app.example\r\nConnection: close\r\n\r\n')
  assert.deepEqual(bodies(await conn.closed), ['GET /slow '])
})

test('a response head says how the connection goes on: keep-alive with its timeout, or close', async (t) => {
  const proxy = await echoProxy(t)
  const reply = await rawHttp(proxy.url, 'GET /k HTTP/1.1\r\nHost: app.example\r\n\r\n', 300)
  assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/)
  assert.match(reply, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n/i)
  assert.match(reply, /\r\ndate: \w{3}, \d\d \w{3} \d{4} /i)
  const closing = await rawHttp(proxy.url, 'GET /c HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n')
  assert.match(closing, /\r\nConnection: close\r\n/i)
})

test('a connection whose request said Connection: close is closed after its response, though the client keeps its side open', async (t) => {
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', connections: { max: 1 } }],
    pools: {},
    routes: [{ respond: { body: 'ok' } }],
  })
  const { hostname, port } = new URL(proxy.url)
  const first = connect({ host: hostname, port: Number(port), allowHalfOpen: true })
  t.after(() => first.destroy())
  let text = ''
  first.on('data', (c: Buffer) => (text += c.toString('latin1')))
  first.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  await once(first, 'end')
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n(?:.*\r\n)*Connection: close\r\n/i)
  // The first client has not closed its side, yet the listener's one connection is free for the next.
  const next = await rawHttp(proxy.url, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.match(next, /^HTTP\/1\.1 200 OK\r\n/)
})

test('a HEAD request gets the head of the response and no body, and the connection goes on', async (t) => {
  const proxy = await echoProxy(t)
  const reply = await rawHttp(
    proxy.url,
    'HEAD /h HTTP/1.1\r\nHost: app.example\r\n\r\nGET /after HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n',
  )
  const [first, second] = reply.split(/(?=HTTP\/1\.1 )/)
  assert.match(first!, /^HTTP\/1\.1 200 OK\r\n/)
  assert.ok(first!.endsWith('\r\n\r\n'), `a body followed the HEAD answer: ${JSON.stringify(first)}`)
  assert.deepEqual(bodies(second!), ['GET /after '])
})

test('a body of unknown length goes to the client chunked, trailers included', async (t) => {
  const backend = await startBackend(t, 'chunks', (_req, res) => {
    res.writeHead(200, { trailer: 'x-sum' })
    res.write('ab')
    res.addTrailers({ 'x-sum': '42' })
    res.end('cd')
  })
  const proxy = await startPortico(t, { pools: { c: { servers: [backend.address] } }, routes: [{ pool: 'c' }] })
  const reply = await rawHttp(proxy.url, 'GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: close\r\n\r\n')
  assert.match(reply, /\r\ntransfer-encoding: chunked\r\n/i)
  assert.ok(reply.endsWith('\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\nx-sum: 42\r\n\r\n'), JSON.stringify(reply))
})

test('a pipelined burst larger than a request head limit is answered whole and in order', async (t) => {
  const proxy = await echoProxy(t)
  const count = 600
  let bytes = ''
  for (let i = 0; i < count; i++)
    bytes += `GET /${i} HTTP/1.1\r\nHost: app.example\r\n${i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`
  assert.ok(bytes.length > 16 * 1024, 'the burst is larger than the default max_header_bytes')
  const reply = await rawHttp(proxy.url, bytes, 5000)
  assert.deepEqual(
    bodies(reply),
    Array.from({ length: count }, (_, i) => `GET /${i} `),
  )
})

/** Writes `total` bytes of a known pattern to `res` in 16 KiB writes, waiting for 'drain' when asked. */
function streamBody(res: ServerResponse | Http2ServerResponse, total: number): void {
  const chunk = Buffer.alloc(16 * 1024, 'portico ')
  let sent = 0
  const pump = () => {
    while (sent < total) {
      sent += chunk.length
      if (!(res as ServerResponse).write(chunk)) return void res.once('drain', pump)
    }
    res.end()
  }
  pump()
}

test('an HTTPS client that speaks HTTP/1.1 gets a large streamed body whole, from HTTP/1.1 and HTTP/2 backends (#21)', {
  timeout: 60_000,
}, async (t) => {
  const total = 4 * 1024 * 1024
  const expected = createHash('sha256').update(Buffer.alloc(total, 'portico ')).digest('hex')
  const h1 = await startBackend(t, 'h1', (req, res) => {
    if (req.url === '/length') res.setHeader('content-length', total)
    streamBody(res, total)
  })
  const h2 = createH2Server((_req, res) => streamBody(res, total))
  h2.listen(0, '127.0.0.1')
  await once(h2, 'listening')
  t.after(() => h2.close())
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: {
      h1: { servers: [h1.address] },
      h2: { servers: [`127.0.0.1:${(h2.address() as AddressInfo).port}`], protocol: 'h2' },
    },
    routes: [{ match: { path: '/h2' }, pool: 'h2' }, { pool: 'h1' }],
  })
  const { port } = new URL(proxy.url)
  for (const path of ['/chunked', '/length', '/h2']) {
    // Node's https offers no h2 by ALPN: the connection is HTTP/1.1 over TLS.
    const req = httpsRequest({
      host: '127.0.0.1',
      port,
      path,
      servername: 'localhost',
      ca: readFileSync(ca.cert),
      agent: false,
      signal: AbortSignal.timeout(20_000),
    })
    req.end()
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    assert.equal(res.httpVersion, '1.1')
    const hash = createHash('sha256')
    let size = 0
    for await (const chunk of res) {
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
    }
    assert.equal(size, total, path)
    assert.equal(hash.digest('hex'), expected, path)
  }
})
