import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { rawConnection, rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

/** A backend that records each request it sees (`METHOD path`, body length) and answers its name. */
async function recordingBackend(t: TestContext) {
  const seen: string[] = []
  const backend = await startBackend(t, 'rec', (req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => (bytes += c.length))
    req.on('end', () => {
      seen.push(`${req.method} ${req.headers.host} ${req.url} ${bytes}`)
      res.end('rec')
    })
  })
  return { ...backend, seen }
}

async function limitedProxy(t: TestContext, extra: object = {}) {
  const backend = await recordingBackend(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      { match: { path: '/small' }, pool: 'web', max_body_bytes: '1KiB' },
      { match: { host: ['app.example', '127.0.0.1'] }, pool: 'web' },
    ],
    ...extra,
  })
  return { proxy, seen: backend.seen }
}

test('a request head larger than max_header_bytes gets 431', async (t) => {
  const { proxy, seen } = await limitedProxy(t, { limits: { max_header_bytes: '4KiB' } })
  const reply = await rawHttp(
    proxy.url,
    `GET / HTTP/1.1\r\nHost: app.example\r\nX-Big: ${'a'.repeat(5000)}\r\nConnection: close\r\n\r\n`,
  )
  assert.match(reply, /^HTTP\/1\.1 431 [\s\S]*\r\n\r\nRequest Header Fields Too Large\n$/)
  const fits = await request(proxy.url, { headers: { host: 'app.example', 'x-big': 'a'.repeat(3000) } })
  assert.equal(fits.status, 200)
  assert.equal(seen.length, 1)
})

test('a head too large on a reused keep-alive connection still gets 431', async (t) => {
  const { proxy, seen } = await limitedProxy(t, { limits: { max_header_bytes: '4KiB' } })
  const client = rawConnection(proxy.url)
  client.socket.write('GET /one HTTP/1.1\r\nHost: app.example\r\n\r\n')
  while (!client.text.endsWith('\r\n\r\nrec')) await once(client.socket, 'data')
  client.socket.write(`GET /two HTTP/1.1\r\nHost: app.example\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)
  const text = await client.closed
  assert.match(text, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 431 /)
  assert.deepEqual(seen, ['GET app.example /one 0'])
})

test('a head within max_header_bytes reaches the backend whole, however many headers it has', async (t) => {
  let count = 0
  const backend = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    count = req.rawHeaders.filter((name, i) => i % 2 === 0 && name === 'X-N').length
    res.end('ok')
  }).listen(0, '127.0.0.1')
  await once(backend, 'listening')
  t.after(() => backend.close())
  backend.maxHeadersCount = 0
  const proxy = await startPortico(t, {
    pools: { web: { servers: [`127.0.0.1:${(backend.address() as AddressInfo).port}`] } },
    routes: [{ pool: 'web' }],
    limits: { max_header_bytes: '128KiB' },
  })
  // More lines than Node's default count limit (2000), within the byte limit.
  const headers = 'X-N: 1\r\n'.repeat(2500)
  const reply = await rawHttp(proxy.url, `GET / HTTP/1.1\r\nHost: app.example\r\n${headers}Connection: close\r\n\r\n`)
  assert.match(reply, /^HTTP\/1\.1 200 /)
  assert.equal(count, 2500)
})

test('a request target longer than max_uri_bytes gets 414', async (t) => {
  const { proxy, seen } = await limitedProxy(t, { limits: { max_uri_bytes: 2000 } })
  const long = await request(`${proxy.url}/${'p'.repeat(2000)}`, { headers: { host: 'app.example' } })
  assert.equal(long.status, 414)
  assert.equal(long.body, 'URI Too Long\n')
  const fits = await request(`${proxy.url}/${'p'.repeat(1990)}`, { headers: { host: 'app.example' } })
  assert.equal(fits.status, 200)
  assert.equal(seen.length, 1)
})

test('a declared body larger than the route allows gets 413 before the backend sees it', async (t) => {
  const { proxy, seen } = await limitedProxy(t)
  const big = await request(`${proxy.url}/small`, { method: 'POST', body: 'b'.repeat(2000) })
  assert.equal(big.status, 413)
  assert.equal(big.body, 'Payload Too Large\n')
  const fits = await request(`${proxy.url}/small`, { method: 'POST', body: 'b'.repeat(1024) })
  assert.equal(fits.status, 200)
  assert.equal(seen.length, 1)
  assert.match(seen[0]!, /^POST \S+ \/small 1024$/)
})

test('a chunked body that grows past the route limit gets 413 and stops there', async (t) => {
  const { proxy } = await limitedProxy(t)
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/small`, { method: 'POST', agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode!)
    })
    req.on('error', reject)
    // Chunks keep coming until the answer arrives: the upload would never end by itself.
    const pump = () => {
      while (!req.destroyed && req.write('c'.repeat(256)));
      if (!req.destroyed) req.once('drain', pump)
    }
    req.once('response', () => req.destroy())
    pump()
  })
  assert.equal(status, 413)
})

test('a chunked body within the route limit reaches the backend whole', async (t) => {
  const { proxy, seen } = await limitedProxy(t)
  const reply = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/small`, { method: 'POST', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.write('a'.repeat(500))
    req.end('a'.repeat(500))
  })
  assert.equal(reply, 200)
  assert.match(seen[0]!, / 1000$/)
})

// Absolute-form targets (RFC 9112 §3.2.2): routed by the host they name, never proxied to it.
const absoluteForm: [name: string, bytes: string, reply: RegExp, reached: string[]][] = [
  [
    'for a host with no route never leaves the proxy',
    'GET http://evil.example/steal HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n',
    /^HTTP\/1\.1 404 /,
    [],
  ],
  [
    'for a routed host goes to that route, not to the named host',
    'GET http://app.example:9/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
    /^HTTP\/1\.1 200 [\s\S]*rec$/,
    ['GET app.example:9 /x 0'],
  ],
  [
    'with userinfo gets 400 and reaches no backend',
    'GET http://app.example@evil.example/ HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n',
    /^HTTP\/1\.1 400 /,
    [],
  ],
]

for (const [name, bytes, expected, reached] of absoluteForm) {
  test(`an absolute-form target ${name}`, async (t) => {
    const { proxy, seen } = await limitedProxy(t)
    assert.match(await rawHttp(proxy.url, bytes), expected)
    assert.deepEqual(seen, reached)
  })
}

test('a target that is neither origin nor absolute form gets 400', async (t) => {
  const { proxy, seen } = await limitedProxy(t)
  for (const target of ['*', 'ftp://app.example/x', 'app.example:80']) {
    const reply = await rawHttp(proxy.url, `GET ${target} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n`)
    assert.match(reply, /^HTTP\/1\.1 400 /, target)
  }
  assert.deepEqual(seen, [])
})

test('CONNECT gets 405 and opens no tunnel', async (t) => {
  const { proxy, seen } = await limitedProxy(t)
  const reply = await rawHttp(proxy.url, 'CONNECT app.example:443 HTTP/1.1\r\nHost: app.example:443\r\n\r\n')
  assert.match(reply, /^HTTP\/1\.1 405 /)
  assert.match(reply, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i)
  assert.doesNotMatch(reply, /^HTTP\/1\.1 200/m)
  assert.deepEqual(seen, [])
})

test('the unread body of a request refused with 413 is never read as another request', async (t) => {
  const { proxy, seen } = await limitedProxy(t)
  const { socket, closed } = rawConnection(proxy.url)
  // The body that follows the head must never be read as a second request.
  socket.write('POST /small HTTP/1.1\r\nHost: app.example\r\nContent-Length: 2000\r\n\r\n')
  socket.write(`${'GET /smuggled HTTP/1.1\r\nHost: app.example\r\n\r\n'.padEnd(2000, 'x')}`)
  const text = await closed
  assert.match(text, /^HTTP\/1\.1 413 /)
  assert.equal(text.match(/HTTP\/1\.1 /g)?.length, 1)
  assert.deepEqual(seen, [])
})
