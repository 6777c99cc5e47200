import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage, type RequestListener } from 'node:http'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'

/** What the backend saw of a request. */
interface Seen {
  method: string
  headers: IncomingMessage['headers']
  body: string
}

/** Portico in front of one backend running `handler`; `seen` lists the requests the backend got. */
async function proxyTo(t: TestContext, handler: RequestListener, route: object = {}) {
  const seen: Seen[] = []
  const backend = await startBackend(t, 'b', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({ method: req.method!, headers: req.headers, body: Buffer.concat(chunks).toString() })
      handler(req, res)
    })
  })
  const proxy = await startPortico(t, {
    pools: { b: { servers: [backend.address] } },
    routes: [{ pool: 'b', ...route }],
  })
  return { url: proxy.url, seen }
}

const echo: RequestListener = (req, res) => {
  res.setHeader('content-length', 5)
  res.end(req.method === 'HEAD' ? undefined : 'hello')
}

test('a fixed-length upload reaches the backend whole, and a fixed-length answer keeps its Content-Length', async (t) => {
  const { url, seen } = await proxyTo(t, echo)
  const reply = await request(url, { method: 'POST', headers: { 'content-length': '11' }, body: 'hello world' })
  assert.equal(reply.status, 200)
  assert.equal(reply.headers['content-length'], '5')
  assert.equal(reply.headers['transfer-encoding'], undefined)
  assert.equal(reply.body, 'hello')
  assert.equal(seen[0]!.body, 'hello world')
  assert.equal(seen[0]!.headers['content-length'], '11')
})

test('a chunked upload reaches the backend whole, and a chunked answer reaches the client chunked', async (t) => {
  const { url, seen } = await proxyTo(t, (_req, res) => {
    res.write('part one, ')
    res.end('part two')
  })
  const reply = await new Promise<{ headers: IncomingMessage['headers']; body: string }>((resolve, reject) => {
    const req = httpRequest(`${url}/up`, { method: 'PUT', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ headers: res.headers, body }))
    })
    req.on('error', reject)
    req.write('first ')
    req.end('second')
  })
  // How the body is framed towards the backend is undici's choice (it may count a body it already holds).
  assert.equal(seen[0]!.body, 'first second')
  assert.equal(reply.headers['transfer-encoding'], 'chunked')
  assert.equal(reply.body, 'part one, part two')
})

test('HEAD gets the Content-Length of the resource and no body, and the connection stays usable', async (t) => {
  const { url } = await proxyTo(t, (req, res) => {
    res.setHeader('content-length', 1234)
    if (req.method === 'HEAD') res.end()
    else res.end('x'.repeat(1234))
  })
  const text = await rawHttp(
    url,
    'HEAD / HTTP/1.1\r\nhost: a\r\n\r\nGET /after HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n',
  )
  const [head, second] = text.split(/(?=HTTP\/1\.1 )/)
  assert.match(head!, /^HTTP\/1\.1 200 /)
  assert.match(head!, /content-length: 1234\r\n/i)
  assert.ok(head!.endsWith('\r\n\r\n'), 'no body after the HEAD answer')
  assert.match(second!, /^HTTP\/1\.1 200 /)
  assert.ok(second!.endsWith('x'.repeat(1234)))
})

for (const status of [204, 304]) {
  test(`${status} reaches the client without a body, and the connection stays usable`, async (t) => {
    const { url } = await proxyTo(t, (req, res) => {
      if (req.url === '/after') res.end('after')
      else {
        res.writeHead(status, { etag: '"v1"' })
        res.end()
      }
    })
    const text = await rawHttp(
      url,
      'GET / HTTP/1.1\r\nhost: a\r\n\r\nGET /after HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n',
    )
    const [first, second] = text.split(/(?=HTTP\/1\.1 )/)
    assert.match(first!, new RegExp(`^HTTP/1\\.1 ${status} `))
    assert.match(first!, /etag: "v1"\r\n/i)
    assert.doesNotMatch(first!, /transfer-encoding/i)
    assert.ok(first!.endsWith('\r\n\r\n'), 'no body')
    assert.ok(second!.endsWith('after'))
  })
}

test('Expect: 100-continue gets 100 from Portico, then the body reaches the backend without the Expect header', async (t) => {
  const { url, seen } = await proxyTo(t, echo)
  const req = httpRequest(`${url}/up`, {
    method: 'POST',
    agent: false,
    headers: { expect: '100-continue', 'content-length': '4' },
  })
  req.on('error', () => {})
  req.flushHeaders()
  await once(req, 'continue')
  req.end('body')
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  res.resume()
  await once(res, 'end')
  assert.equal(res.statusCode, 200)
  assert.equal(seen[0]!.body, 'body')
  assert.equal(seen[0]!.headers.expect, undefined)
})

test('Expect: 100-continue with a body over the route limit gets 413 and never a 100', async (t) => {
  const { url, seen } = await proxyTo(t, echo, { max_body_bytes: 10 })
  const text = await rawHttp(
    url,
    'POST / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 1000\r\n\r\n',
    2000,
  )
  assert.match(text, /^HTTP\/1\.1 413 /)
  assert.doesNotMatch(text, /100 Continue/)
  assert.equal(seen.length, 0)
})

/** A backend that answers chunked with a trailer. */
const withTrailer: RequestListener = (req, res) => {
  res.writeHead(200, { trailer: 'x-checksum' })
  if (req.method !== 'HEAD') res.write('data')
  res.addTrailers({ 'x-checksum': 'abc123' })
  res.end()
}

test('trailers of a chunked answer reach an HTTP/1.1 client', async (t) => {
  const { url } = await proxyTo(t, withTrailer)
  const trailers = await new Promise<IncomingMessage['trailers']>((resolve, reject) => {
    httpRequest(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.trailers))
    })
      .on('error', reject)
      .end()
  })
  assert.deepEqual(trailers, { 'x-checksum': 'abc123' })
})

test('an answer that announces trailers still reaches HTTP/1.0 clients and HEAD requests, without them', async (t) => {
  const backend = await startRawBackend(t, (socket, head) => {
    const body = head.startsWith('HEAD') ? '' : '4\r\ndata\r\n0\r\nx-checksum: abc123\r\n\r\n'
    socket.write(`HTTP/1.1 200 OK\r\ntrailer: x-checksum\r\ntransfer-encoding: chunked\r\n\r\n${body}`)
  })
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  const old = await rawHttp(proxy.url, 'GET / HTTP/1.0\r\nhost: a\r\n\r\n')
  assert.match(old, /^HTTP\/1\.1 200 /)
  assert.doesNotMatch(old, /trailer|x-checksum/i)
  assert.ok(old.endsWith('\r\n\r\ndata'))
  const head = await rawHttp(proxy.url, 'HEAD / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n')
  assert.match(head, /^HTTP\/1\.1 200 /)
  assert.doesNotMatch(head, /trailer/i)
})

test('103 Early Hints links reach the client before the final answer', async (t) => {
  const { url } = await proxyTo(t, (_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
    res.end('page')
  })
  const hints: IncomingMessage['headers'][] = []
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => resolve(text))
    })
    req.on('information', (info) => hints.push(info.headers))
    req.on('error', reject)
    req.end()
  })
  assert.equal(body, 'page')
  assert.deepEqual(
    hints.map((h) => h.link),
    ['</style.css>; rel=preload; as=style'],
  )
})
