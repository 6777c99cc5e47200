import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: app.example\r\n\r\n'

/**
 * Requests that desynchronise a front proxy from its backend when the two read them differently.
 * Each must get 400 or a closed connection, and the request hidden in it must never reach a backend.
 */
const cases: [string, string][] = [
  [
    'Content-Length and Transfer-Encoding together',
    `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'Transfer-Encoding before Content-Length',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'two different Content-Lengths',
    `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\n${smuggled}`,
  ],
  ['a Content-Length list', `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 0, 45\r\n\r\n${smuggled}`],
  ['a signed Content-Length', `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: +45\r\n\r\n${smuggled}`],
  [
    'Transfer-Encoding: chunked, identity',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'Transfer-Encoding: identity',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: identity\r\n\r\n${smuggled}`,
  ],
  [
    'an obfuscated Transfer-Encoding value',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'Transfer-Encoding repeated with a second coding',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'a space before the colon of Transfer-Encoding',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'a space before the colon of Content-Length',
    `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length : 45\r\n\r\n${smuggled}`,
  ],
  [
    'Transfer-Encoding folded onto the line before (obs-fold)',
    `POST / HTTP/1.1\r\nHost: app.example\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 45\r\n\r\n${smuggled}`,
  ],
  ['an obs-fold header', `GET / HTTP/1.1\r\nHost: app.example\r\nX-Folded: a\r\n b\r\n\r\n${smuggled}`],
  [
    'a chunk size that is not hex',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'a negative chunk size',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'a chunk size that overflows',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'a chunk longer than its size',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'a chunk size line ended by a bare LF',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n${smuggled}`,
  ],
  ['LF-only line endings', `GET / HTTP/1.1\nHost: app.example\n\n${smuggled.replaceAll('\r\n', '\n')}`],
  ['a bare CR in a header line', `GET / HTTP/1.1\r\nHost: app.example\r\nX-A: a\rb\r\n\r\n${smuggled}`],
  ['a NUL in a header value', `GET / HTTP/1.1\r\nHost: app.example\r\nX-A: a\u0000b\r\n\r\n${smuggled}`],
  ['a control character in a header value', `GET / HTTP/1.1\r\nHost: app.example\r\nX-A: a\u0001b\r\n\r\n${smuggled}`],
  ['an invalid character in a header name', `GET / HTTP/1.1\r\nHost: app.example\r\nX@A: b\r\n\r\n${smuggled}`],
  ['two Host headers', `GET / HTTP/1.1\r\nHost: app.example\r\nHost: evil.example\r\n\r\n${smuggled}`],
  ['no Host header in HTTP/1.1', `GET / HTTP/1.1\r\nX-A: b\r\n\r\n${smuggled}`],
  ['a space in the request target', `GET /a b HTTP/1.1\r\nHost: app.example\r\n\r\n${smuggled}`],
  ['an unknown HTTP version', `GET / HTTP/1.7\r\nHost: app.example\r\n\r\n${smuggled}`],
]

async function recordingProxy(t: TestContext) {
  const seen: string[] = []
  const backend = await startBackend(t, 'rec', (req, res) => {
    req.resume()
    req.on('end', () => {
      seen.push(req.url ?? '')
      res.end('rec')
    })
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  return { proxy, seen }
}

for (const [name, bytes] of cases) {
  test(`${name}: 400 or a closed connection, and nothing smuggled reaches the backend`, async (t) => {
    const { proxy, seen } = await recordingProxy(t)
    const reply = await rawHttp(proxy.url, bytes)
    const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])
    assert.ok(statuses.length === 0 || (statuses.length === 1 && statuses[0] === '400'), `answered ${reply}`)
    assert.deepEqual(seen, [])
  })
}

test('a well-formed pipelined pair is served in order, as the control case', async (t) => {
  const { proxy, seen } = await recordingProxy(t)
  const reply = await rawHttp(
    proxy.url,
    `GET /first HTTP/1.1\r\nHost: app.example\r\n\r\nGET /second HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(reply.match(/HTTP\/1\.1 200 /g)?.length, 2)
  assert.deepEqual(seen, ['/first', '/second'])
})

/** A backend that answers every request on a connection with `bytes`, as raw as it likes. */
async function rawBackend(t: TestContext, bytes: string): Promise<string> {
  return (await startRawBackend(t, (socket) => socket.write(bytes))).address
}

const responses: [string, string][] = [
  [
    'Content-Length and Transfer-Encoding together',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  ],
  ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!'],
  ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok'],
  ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n'],
]

for (const [name, bytes] of responses) {
  test(`a backend response with ${name} gives 502 or a cut connection, never a reinterpreted body`, async (t) => {
    const backend = await rawBackend(t, bytes)
    const proxy = await startPortico(t, { pools: { web: { servers: [backend] } }, routes: [{ pool: 'web' }] })
    const reply = await rawHttp(proxy.url, 'GET / HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n')
    // Broken before the head reached the client: 502. Broken in the body: the client sees it cut.
    assert.ok(reply === '' || /^HTTP\/1\.1 502 [\s\S]*\r\n\r\nBad Gateway\n$/.test(reply), reply)
  })
}

test('bytes a backend sends after its response never answer another client', async (t) => {
  const backend = await rawBackend(
    t,
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison',
  )
  const proxy = await startPortico(t, { pools: { web: { servers: [backend] } }, routes: [{ pool: 'web' }] })
  const bodies: string[] = []
  for (let i = 0; i < 3; i++) {
    const reply = await request(proxy.url)
    bodies.push(`${reply.status} ${reply.body}`)
  }
  assert.ok(!bodies.some((b) => b.includes('poison')), bodies.join(' | '))
})

test('the lenient parser stays off even when NODE_OPTIONS asks for it', async (t) => {
  const { address } = await startBackend(t, 'rec')
  const config = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: 'off' },
  })
  const portico = await spawnPortico(t, ['run', '-c', config], {
    listeners: 1,
    env: { NODE_OPTIONS: '--insecure-http-parser' },
  })
  const reply = await rawHttp(portico.urls[0]!, cases[0]![1])
  assert.match(reply, /^HTTP\/1\.1 400 /)
  const folded = await rawHttp(portico.urls[0]!, `GET / HTTP/1.1\r\nHost: a.example\r\nX-A: a\r\n b\r\n\r\n`)
  assert.match(folded, /^HTTP\/1\.1 400 /)
})

/** A backend that records every byte it receives and answers each request head with 200. */
async function recordingBackend(t: TestContext): Promise<{ address: string; received: () => string }> {
  let received = ''
  const backend = await startRawBackend(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
  backend.server.on('connection', (socket) => socket.on('data', (c: Buffer) => (received += c.toString('latin1'))))
  return { address: backend.address, received: () => received }
}

const keepAlive10 = 'Host: app.example\r\nConnection: keep-alive\r\n'
const smuggled10 = `GET /smuggled HTTP/1.0\r\n${keepAlive10}\r\n`

/** Requests refused with 400 and a closed connection; nothing of them, nor what follows them, reaches a backend. */
const refused: [string, string][] = [
  [
    'HTTP/1.0 with Transfer-Encoding and keep-alive',
    `POST / HTTP/1.0\r\n${keepAlive10}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  ],
  [
    'HTTP/1.0 with Transfer-Encoding and Content-Length',
    `POST / HTTP/1.0\r\n${keepAlive10}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled10}`,
  ],
  ['an HTTP/0.9 request line', `GET /c\r\n\r\n${smuggled}`],
  ['an HTTP/0.9 request line after a served request', `GET /a HTTP/1.1\r\nHost: app.example\r\n\r\nGET /c\r\n\r\n`],
  ['an HTTP/1.0 request with an encoded slash, pipelined', `GET /a%2fb HTTP/1.0\r\n${keepAlive10}\r\n${smuggled10}`],
]

for (const [name, bytes] of refused) {
  test(`${name}: 400 and a closed connection, and what follows never reaches the backend (#21)`, async (t) => {
    const backend = await recordingBackend(t)
    const proxy = await startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }] })
    const reply = await rawHttp(proxy.url, bytes, 5000)
    const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])
    // The one served request before it (a well-formed one) is answered first.
    const served = bytes.startsWith('GET /a HTTP/1.1') ? ['200'] : []
    assert.deepEqual(statuses, [...served, '400'], reply)
    assert.doesNotMatch(backend.received(), /\/smuggled|\/c |GET \/c\r|POST/, backend.received())
    if (served.length === 0) assert.equal(backend.received(), '')
  })
}
