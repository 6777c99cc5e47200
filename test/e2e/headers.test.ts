import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { connect } from 'node:http2'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get, rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

/** What the echo backend saw: the raw header list, in order and case. */
interface Seen {
  readonly raw: string[]
}

/** A backend that answers with the raw request headers it received, as JSON. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ raw: req.rawHeaders } satisfies Seen))
}

/** The values of `name` (case-insensitive) in a flat raw header list. */
function values(raw: readonly string[], name: string): string[] {
  const found: string[] = []
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) found.push(raw[i + 1]!)
  return found
}

function names(raw: readonly string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0)
}

async function echoProxy(t: Parameters<typeof startBackend>[0], extra: object = {}, pool: object = {}) {
  const backend = await startBackend(t, 'echo', echo)
  return startPortico(t, {
    pools: { web: { servers: [backend.address], ...pool } },
    routes: [{ pool: 'web' }],
    ...extra,
  })
}

async function seen(url: string, headers: string[]): Promise<string[]> {
  const reply = await request(url, { headers })
  assert.equal(reply.status, 200)
  return (JSON.parse(reply.body) as Seen).raw
}

test('header names reach the backend in the case and order sent, duplicates kept', async (t) => {
  const proxy = await echoProxy(t)
  const raw = await seen(`${proxy.url}/`, [
    'Host',
    'app.example',
    'X-Legacy-CASE',
    'one',
    'accept',
    'text/html',
    'X-Dup',
    'a',
    'x-dup',
    'b',
    'Set-Thing',
    'z',
  ])
  // Host too keeps its place and case; Portico's own headers come after the client's.
  const sent = names(raw).filter((n) => !/^(via|x-forwarded-\w+|forwarded|x-request-id|traceparent)$/i.test(n))
  assert.deepEqual(sent, ['Host', 'X-Legacy-CASE', 'accept', 'X-Dup', 'x-dup', 'Set-Thing'])
  assert.deepEqual(values(raw, 'x-dup'), ['a', 'b'])
  assert.deepEqual(values(raw, 'host'), ['app.example'])
})

test('header values with bytes beyond ASCII reach the backend unchanged', async (t) => {
  const proxy = await echoProxy(t)
  const text = await rawHttp(
    proxy.url,
    Buffer.from('GET / HTTP/1.1\r\nHost: a.example\r\nX-Latin: caf\xe9 \xff\r\nConnection: close\r\n\r\n', 'latin1'),
  )
  const body = JSON.parse(Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1').toString()) as Seen
  assert.deepEqual(values(body.raw, 'x-latin'), ['caf\xe9 \xff'])
})

test('hop-by-hop headers and headers named in Connection never reach the backend', async (t) => {
  const proxy = await echoProxy(t)
  const raw = await seen(`${proxy.url}/`, [
    'Host',
    'hop.example',
    'Connection',
    'keep-alive, X-Secret-Hop',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Connection',
    'keep-alive',
    'TE',
    'gzip',
    'Proxy-Authorization',
    'Basic c2VjcmV0',
    'X-Secret-Hop',
    'do not forward',
    'X-Kept',
    'yes',
  ])
  for (const name of ['keep-alive', 'proxy-connection', 'te', 'proxy-authorization', 'x-secret-hop']) {
    assert.deepEqual(values(raw, name), [], name)
  }
  assert.ok(!values(raw, 'connection').some((v) => /x-secret-hop/i.test(v)))
  assert.deepEqual(values(raw, 'x-kept'), ['yes'])
})

test('TE: trailers alone is passed on, since gRPC backends require it (RFC 9113 §8.2.2)', async (t) => {
  const proxy = await echoProxy(t)
  const raw = await seen(`${proxy.url}/`, ['Host', 'te.example', 'TE', 'trailers'])
  assert.deepEqual(values(raw, 'te'), ['trailers'])
})

test('hop-by-hop response headers and those named in its Connection never reach the client', async (t) => {
  const backend = await startBackend(t, 'hop', (_req, res) => {
    res.writeHead(200, [
      'X-Before',
      '1',
      'Connection',
      'X-Internal',
      'Keep-Alive',
      'timeout=30',
      'X-Internal',
      'secret',
      'Proxy-Authenticate',
      'Basic',
      'X-After',
      '2',
    ])
    res.end('ok')
  })
  const proxy = await startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }] })
  const reply = await get(proxy.url)
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'ok')
  assert.equal(reply.headers['x-internal'], undefined)
  assert.equal(reply.headers['proxy-authenticate'], undefined)
  assert.notEqual(reply.headers['keep-alive'], 'timeout=30')
  const kept = names(reply.rawHeaders).filter((n) => n.startsWith('X-'))
  assert.deepEqual(kept, ['X-Before', 'X-After'])
})

test('response header names reach the client in the case and order sent, duplicates kept', async (t) => {
  const backend = await startBackend(t, 'case', (_req, res) => {
    res.writeHead(200, ['X-Legacy-CASE', 'a', 'Set-Cookie', 's=1', 'set-cookie', 't=2', 'x-lower', 'b'])
    res.end('ok')
  })
  const proxy = await startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }] })
  const reply = await get(proxy.url)
  const sent = names(reply.rawHeaders).filter((n) => /^(x-legacy|set-cookie|x-lower)/i.test(n))
  assert.deepEqual(sent, ['X-Legacy-CASE', 'Set-Cookie', 'set-cookie', 'x-lower'])
  assert.deepEqual(reply.headers['set-cookie'], ['s=1', 't=2'])
})

test('Via is added towards the backend and the client, and appended to an existing one', async (t) => {
  const backend = await startBackend(t, 'via', (req, res) => {
    res.setHeader('via', '1.1 origin-cache')
    res.end(JSON.stringify({ raw: req.rawHeaders }))
  })
  const proxy = await startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }] })
  const plain = await request(proxy.url)
  assert.equal(plain.headers.via, '1.1 origin-cache, 1.1 portico')
  assert.deepEqual(values((JSON.parse(plain.body) as Seen).raw, 'via'), ['1.1 portico'])
  const chained = await request(proxy.url, { headers: { via: '1.0 edge' } })
  assert.deepEqual(values((JSON.parse(chained.body) as Seen).raw, 'via'), ['1.0 edge, 1.1 portico'])
})

test('an untrusted client gets its forwarding headers replaced, never appended to', async (t) => {
  const proxy = await echoProxy(t)
  const raw = await seen(`${proxy.url}/`, [
    'Host',
    'shop.example',
    'X-Forwarded-For',
    '6.6.6.6',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'evil.example',
    'Forwarded',
    'for=6.6.6.6;host=evil.example',
    'X-Real-IP',
    '6.6.6.6',
    'X-Forwarded-Port',
    '443',
    'X-Forwarded-Original-Request-Uri',
    '/admin',
  ])
  assert.deepEqual(values(raw, 'x-real-ip'), [])
  assert.deepEqual(values(raw, 'x-forwarded-port'), [])
  assert.deepEqual(values(raw, 'x-forwarded-original-request-uri'), [])
  assert.deepEqual(values(raw, 'x-forwarded-for'), ['127.0.0.1'])
  assert.deepEqual(values(raw, 'x-forwarded-proto'), ['http'])
  assert.deepEqual(values(raw, 'x-forwarded-host'), ['shop.example'])
  assert.deepEqual(values(raw, 'forwarded'), ['for=127.0.0.1;proto=http;host=shop.example'])
})

test('a trusted proxy gets its forwarding headers kept and extended', async (t) => {
  const proxy = await echoProxy(t, { trusted_proxies: ['127.0.0.0/8'] })
  const raw = await seen(`${proxy.url}/`, [
    'Host',
    'shop.example',
    'X-Forwarded-For',
    '203.0.113.9',
    'X-Forwarded-For',
    '10.0.0.2',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'www.shop.example',
    'Forwarded',
    'for=203.0.113.9;proto=https',
    'X-Real-IP',
    '203.0.113.9',
    'X-Forwarded-Port',
    '443',
  ])
  assert.deepEqual(values(raw, 'x-real-ip'), ['203.0.113.9'])
  assert.deepEqual(values(raw, 'x-forwarded-port'), ['443'])
  assert.deepEqual(values(raw, 'x-forwarded-for'), ['203.0.113.9, 10.0.0.2, 127.0.0.1'])
  assert.deepEqual(values(raw, 'x-forwarded-proto'), ['https'])
  assert.deepEqual(values(raw, 'x-forwarded-host'), ['www.shop.example'])
  assert.deepEqual(values(raw, 'forwarded'), [
    'for=203.0.113.9;proto=https, for=127.0.0.1;proto=http;host=shop.example',
  ])
})

test('trust is by CIDR: a client outside the trusted ranges is not trusted', async (t) => {
  const proxy = await echoProxy(t, { trusted_proxies: ['10.0.0.0/8', '::1'] })
  const raw = await seen(`${proxy.url}/`, [
    'Host',
    'a.example',
    'X-Forwarded-For',
    '203.0.113.9',
    'X-Request-Id',
    'from-client',
  ])
  assert.deepEqual(values(raw, 'x-forwarded-for'), ['127.0.0.1'])
  assert.notDeepEqual(values(raw, 'x-request-id'), ['from-client'])
})

test('an IPv6 client appears in X-Forwarded-For as is and in Forwarded quoted', async (t) => {
  const proxy = await echoProxy(t, { listeners: [{ address: '[::1]:0' }] })
  const raw = await seen(`${proxy.url}/`, ['Host', 'v6.example'])
  assert.deepEqual(values(raw, 'x-forwarded-for'), ['::1'])
  assert.deepEqual(values(raw, 'forwarded'), ['for="[::1]";proto=http;host=v6.example'])
})

test('an IPv4 client on a dual-stack listener is trusted by its IPv4 range and shown as IPv4', async (t) => {
  const proxy = await echoProxy(t, { listeners: [{ address: '[::]:0' }], trusted_proxies: ['127.0.0.0/8'] })
  const port = new URL(proxy.url).port
  const raw = await seen(`http://127.0.0.1:${port}/`, ['Host', 'v4.example', 'X-Forwarded-For', '203.0.113.9'])
  assert.deepEqual(values(raw, 'x-forwarded-for'), ['203.0.113.9, 127.0.0.1'])
  assert.deepEqual(values(raw, 'forwarded'), ['for=127.0.0.1;proto=http;host=v4.example'])
})

test('Host is kept by default and replaced by the pool host_header', async (t) => {
  const kept = await echoProxy(t)
  assert.deepEqual(values(await seen(`${kept.url}/`, ['Host', 'Shop.Example:8080']), 'host'), ['Shop.Example:8080'])
  const set = await echoProxy(t, {}, { host_header: 'internal.svc' })
  const raw = await seen(`${set.url}/`, ['Host', 'shop.example'])
  assert.deepEqual(values(raw, 'host'), ['internal.svc'])
  assert.deepEqual(values(raw, 'x-forwarded-host'), ['shop.example'])
})

test('a request id is generated, sent to the backend and returned to the client', async (t) => {
  const proxy = await echoProxy(t)
  const first = await request(proxy.url, { headers: { 'x-request-id': 'client-chosen' } })
  const id = first.headers['x-request-id']
  assert.equal(typeof id, 'string')
  assert.notEqual(id, 'client-chosen')
  assert.deepEqual(values((JSON.parse(first.body) as Seen).raw, 'x-request-id'), [id])
  const second = await request(proxy.url)
  assert.notEqual(second.headers['x-request-id'], id)
})

test('a trusted client keeps a valid request id; an invalid one is replaced', async (t) => {
  const proxy = await echoProxy(t, { trusted_proxies: ['127.0.0.1'] })
  const kept = await request(proxy.url, { headers: { 'x-request-id': 'edge-7f3a' } })
  assert.equal(kept.headers['x-request-id'], 'edge-7f3a')
  assert.deepEqual(values((JSON.parse(kept.body) as Seen).raw, 'x-request-id'), ['edge-7f3a'])
  const replaced = await request(proxy.url, { headers: { 'x-request-id': 'bad id "with" quotes' } })
  assert.notEqual(replaced.headers['x-request-id'], 'bad id "with" quotes')
  assert.match(String(replaced.headers['x-request-id']), /^[\w-]+$/)
})

test('local replies carry the request id and Via too', async (t) => {
  const backend = await startBackend(t, 'echo', echo)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] }, dead: { servers: ['127.0.0.1:1'] } },
    routes: [
      { match: { path: '/dead' }, pool: 'dead' },
      { match: { host: 'known.example' }, pool: 'web' },
    ],
  })
  const notFound = await request(proxy.url, { headers: { host: 'unknown.example' } })
  assert.equal(notFound.status, 404)
  assert.match(String(notFound.headers['x-request-id']), /\S/)
  assert.equal(notFound.headers.via, '1.1 portico')
  const badGateway = await request(`${proxy.url}/dead`)
  assert.equal(badGateway.status, 502)
  assert.match(String(badGateway.headers['x-request-id']), /\S/)
})

test('a backend cannot choose the request id the client sees', async (t) => {
  const backend = await startBackend(t, 'liar', (_req, res) => {
    res.setHeader('x-request-id', 'from-backend')
    res.end('ok')
  })
  const proxy = await startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }] })
  const reply = await get(proxy.url)
  assert.notEqual(reply.headers['x-request-id'], 'from-backend')
  assert.equal(values(reply.rawHeaders, 'x-request-id').length, 1)
})

test('an absolute-form target sends its authority as Host', async (t) => {
  const proxy = await echoProxy(t)
  const text = await rawHttp(
    proxy.url,
    'GET http://app.example/x?y=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n',
  )
  assert.match(text, /^HTTP\/1\.1 200/)
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Seen
  assert.deepEqual(values(body.raw, 'host'), ['app.example'])
})

test('header names with underscores never reach the backend from HTTP/1.1 or HTTP/2 clients, unless the listener passes them (#21)', async (t) => {
  const backend = await startBackend(t, 'echo', echo)
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', http2: { enabled: true } },
      { address: '127.0.0.1:0', http2: { enabled: true }, underscores_in_headers: true },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [
      // The client's fields go before the route's header rules, which may still add such a name.
      { request_headers: { set: { X_From_Rule: 'portico' } }, pool: 'web' },
    ],
  })
  const sent = ['X_Forwarded_For', '6.6.6.6', 'x-keep', 'yes', 'X_Real_IP', '6.6.6.6', 'x_auth_user', 'admin']
  const h2Seen = async (url: string): Promise<string[]> => {
    const session = connect(url)
    session.on('error', () => {})
    t.after(() => session.destroy())
    const headers: Record<string, string> = {}
    for (let i = 0; i < sent.length; i += 2) headers[sent[i]!.toLowerCase()] = sent[i + 1]!
    const stream = session.request({ ':path': '/', ...headers })
    stream.end()
    let body = ''
    stream.setEncoding('utf8')
    stream.on('data', (c: string) => (body += c))
    await once(stream, 'end')
    return (JSON.parse(body) as Seen).raw
  }
  const [strict, lenient] = proxy.urls as [string, string]
  for (const raw of [await seen(`${strict}/`, ['Host', 'a', ...sent]), await h2Seen(strict)]) {
    assert.deepEqual(
      names(raw).filter((n) => n.includes('_')),
      ['X_From_Rule'],
    )
    assert.deepEqual(values(raw, 'x-keep'), ['yes'])
    assert.deepEqual(values(raw, 'x-forwarded-for'), ['127.0.0.1'])
  }
  for (const raw of [await seen(`${lenient}/`, ['Host', 'a', ...sent]), await h2Seen(lenient)]) {
    assert.deepEqual(values(raw, 'x_forwarded_for'), ['6.6.6.6'])
    assert.deepEqual(values(raw, 'x_auth_user'), ['admin'])
  }
})
