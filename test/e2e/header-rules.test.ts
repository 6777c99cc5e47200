import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { type ClientHttp2Session, connect } from 'node:http2'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'

test('request header rules set, add and remove what the backend receives, with variables', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => {
    const seen: string[] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (/^x-/i.test(req.rawHeaders[i]!) && !/^x-forwarded|^x-request-id/i.test(req.rawHeaders[i]!))
        seen.push(`${req.rawHeaders[i]}=${req.rawHeaders[i + 1]}`)
    }
    res.setHeader('x-from-backend', 'yes')
    res.setHeader('x-internal', 'secret')
    res.end(`${seen.join('|')} id=${req.headers['x-request-id']}`)
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    trusted_proxies: ['127.0.0.1'],
    routes: [
      {
        match: { host: { regex: '^(?<tenant>\\w+)\\.example\\.test$' }, path: { regex: '^/items/(\\d+)$' } },
        pool: 'web',
        request_headers: {
          set: { 'X-Tenant': '{tenant}', 'X-Client': '{client_ip} {country}' },
          add: { 'X-Item': '{1}', 'X-Req': '{request_id}' },
          remove: ['x-debug'],
        },
        response_headers: {
          set: { 'x-served-for': '{host}' },
          add: { 'x-from-backend': 'also' },
          remove: ['x-internal'],
        },
      },
    ],
  })
  const res = await get(`${proxy.url}/items/7`, {
    host: 'acme.example.test',
    'x-tenant': 'spoofed',
    'x-debug': '1',
    'x-forwarded-for': '193.51.224.1',
  })
  const id = res.headers['x-request-id']
  assert.equal(res.body, `X-Tenant=acme|X-Client=193.51.224.1 FR|X-Item=7|X-Req=${id} id=${id}`)
  assert.equal(res.headers['x-served-for'], 'acme.example.test')
  assert.equal(res.headers['x-from-backend'], 'yes, also')
  assert.equal(res.headers['x-internal'], undefined)
})

test('response header rules also apply to the answers Portico makes itself', async (t) => {
  const proxy = await startPortico(t, {
    pools: {},
    routes: [
      {
        match: { path: '/r' },
        redirect: { to: '/elsewhere' },
        response_headers: { set: { 'cache-control': 'max-age=300' } },
      },
      { respond: { body: 'hi' }, response_headers: { add: { 'x-country': '[{country}]' } } },
    ],
  })
  const r = await get(`${proxy.url}/r`)
  assert.equal(r.status, 302)
  assert.equal(r.headers['cache-control'], 'max-age=300')
  assert.equal((await get(proxy.url)).headers['x-country'], '[]')
})

/** One request over an HTTP/2 session; resolves with the status and headers once the stream ends. */
async function h2Request(
  session: ClientHttp2Session,
  path: string,
  method = 'GET',
  body?: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const headers: OutgoingHttpHeaders = { ':path': path, ':method': method }
  if (body) headers['content-length'] = body.length
  const stream = session.request(headers, { endStream: body === undefined })
  stream.on('error', () => {})
  if (body) stream.end(body)
  const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders]
  stream.resume()
  await once(stream, 'close')
  return { status: Number(head[':status']), headers: head }
}

test('every answer Portico makes itself on a route gets its response header rules, over HTTP/1.1 and HTTP/2 (#22)', async (t) => {
  const held: ServerResponse[] = []
  const holding = await startBackend(t, 'held', (_req, res) => void held.push(res))
  t.after(() => {
    for (const res of held) res.end()
  })
  const { address: silent } = await startRawBackend(t, () => {})
  const rule = { response_headers: { set: { 'x-rule': 'applied' } } }
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: {
      web: { servers: [holding.address] },
      none: { servers: [{ address: holding.address, weight: 0 }] },
      full: { servers: [{ address: holding.address, max_conns: 1 }], limits: { max_queued: 0 } },
      // Without outlier detection, so that the HTTP/2 request meets the same failure, not a 503.
      refused: { servers: [await closedPort()], outlier: { consecutive_failures: 0 } },
      silent: {
        servers: [silent],
        timeouts: { response_headers: '200ms' },
        retries: { attempts: 1 },
        outlier: { consecutive_failures: 0 },
      },
    },
    routes: [
      { match: { path: '/big' }, pool: 'web', max_body_bytes: '1KiB', ...rule },
      { match: { path: '/none' }, pool: 'none', ...rule },
      { match: { path: '/full' }, pool: 'full', ...rule },
      { match: { path: '/refused' }, pool: 'refused', ...rule },
      { match: { path: '/silent' }, pool: 'silent', ...rule },
      { match: { path: '/r' }, redirect: { to: '/elsewhere' }, ...rule },
      { respond: { status: 200, body: 'hi' }, ...rule },
    ],
  })
  // The only slot of pool `full` stays taken, so that the next request finds the queue full.
  const first = get(`${proxy.url}/full`)
  await once(holding.server, 'request')
  const session = connect(proxy.url)
  session.on('error', () => {})
  t.after(() => session.destroy())
  const big = Buffer.alloc(2048, 'x')
  const cases: [path: string, status: number, method?: string, body?: Buffer][] = [
    ['/big', 413, 'POST', big],
    ['/none', 503],
    ['/full', 503],
    ['/refused', 502],
    ['/silent', 504],
    ['/r', 302],
    ['/', 200],
  ]
  for (const [path, status, method, body] of cases) {
    const h1 = await request(`${proxy.url}${path}`, { method, body })
    assert.equal(h1.status, status, `HTTP/1.1 ${path}`)
    assert.equal(h1.headers['x-rule'], 'applied', `HTTP/1.1 ${path}`)
    const h2 = await h2Request(session, path, method, body)
    assert.equal(h2.status, status, `HTTP/2 ${path}`)
    assert.equal(h2.headers['x-rule'], 'applied', `HTTP/2 ${path}`)
  }
  held[0]!.end('done')
  assert.equal((await first).status, 200)
})
