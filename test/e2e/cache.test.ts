import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answer, cachedSetup } from '../cache/counting-backend.ts'
import { get, request } from '../helpers/http.ts'

const fresh = { 'cache-control': 'max-age=60' }

test('a second GET of a fresh response is answered from the cache with Age and the Date kept', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({ ...fresh, date: new Date(Date.now() - 5000).toUTCString() }))
  const first = await get(`${proxy.url}/a`)
  const second = await get(`${proxy.url}/a`)
  assert.equal(count(), 1)
  assert.equal(second.body, 'hello')
  assert.equal(second.headers['x-n'], '1')
  assert.equal(second.headers.date, first.headers.date)
  assert.ok(Number(second.headers.age) >= 5, `age ${second.headers.age}`)
  assert.match(first.headers['cache-status'] as string, /^Portico; fwd=uri-miss; fwd-status=200; stored/)
  assert.match(second.headers['cache-status'] as string, /^Portico; hit; ttl=5\d$/)
  assert.notEqual(second.headers['x-request-id'], first.headers['x-request-id'])
})

test('a hit goes through the route’s header rules as a miss does: hidden fields stay hidden, security headers are set once', async (t) => {
  const backend = answer({ ...fresh, 'x-powered-by': 'php', 'x-content-type-options': 'sniff' })
  const hidden = await cachedSetup(t, backend, {}, { hide_response_headers: ['x-powered-by', 'age'] })
  await get(`${hidden.proxy.url}/a`)
  const hit = await get(`${hidden.proxy.url}/a`)
  assert.match(hit.headers['cache-status'] as string, /^Portico; hit/)
  assert.equal(hit.headers['x-powered-by'], undefined)
  assert.equal(hit.headers.age, undefined)
  assert.ok(hit.headers['x-request-id'])
  const secured = await cachedSetup(t, backend, {}, { security_headers: { content_type_options: true } })
  await get(`${secured.proxy.url}/a`)
  const securedHit = await get(`${secured.proxy.url}/a`)
  assert.match(securedHit.headers['cache-status'] as string, /^Portico; hit/)
  assert.equal(securedHit.headers['x-content-type-options'], 'nosniff')
  assert.equal(securedHit.headers['x-powered-by'], undefined)
})

test('a route without a cache block stores nothing', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), { enabled: false })
  await get(`${proxy.url}/a`)
  const second = await get(`${proxy.url}/a`)
  assert.equal(count(), 2)
  assert.equal(second.headers['cache-status'], undefined)
})

test('HEAD is answered from a stored GET, without a body', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh))
  await get(`${proxy.url}/a`)
  const head = await request(`${proxy.url}/a`, { method: 'HEAD' })
  assert.equal(count(), 1)
  assert.equal(head.status, 200)
  assert.equal(head.body, '')
  assert.equal(head.headers['content-length'], '5')
})

test('a HEAD miss is forwarded and stores nothing', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh))
  await request(`${proxy.url}/a`, { method: 'HEAD' })
  await get(`${proxy.url}/a`)
  assert.equal(count(), 2)
})

test('other methods are forwarded every time', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh))
  await request(`${proxy.url}/a`, { method: 'POST', body: 'x' })
  await request(`${proxy.url}/a`, { method: 'POST', body: 'x' })
  assert.equal(count(), 2)
})

// Responses that RFC 9111 §3 forbids a shared cache to store, or gives no freshness.
const notStored: [string, Record<string, string>, number?][] = [
  ['Cache-Control: no-store', { 'cache-control': 'no-store, max-age=60' }],
  ['Cache-Control: private', { 'cache-control': 'private, max-age=60' }],
  ['Cache-Control: no-cache (without revalidation, nothing to reuse)', { 'cache-control': 'no-cache, max-age=60' }],
  ['an invalid Expires, which means already expired', { expires: '0' }],
  ['an Expires in the past', { expires: new Date(Date.now() - 60_000).toUTCString() }],
  ['Vary: *', { 'cache-control': 'max-age=60', vary: '*' }],
  ['no freshness and no Last-Modified', {}],
  [
    'Last-Modified on a status not cacheable by default (302)',
    { 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT', location: '/x' },
    302,
  ],
  ['a status RFC 9110 does not define as understood (299)', { 'cache-control': 'max-age=60' }, 299],
  ['Set-Cookie on a route that does not store cookies', { 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }],
  [
    'must-understand on a status Portico does not understand (299)',
    { 'cache-control': 'max-age=60, must-understand' },
    299,
  ],
]
for (const [what, headers, status] of notStored) {
  test(`a response with ${what} is not stored`, async (t) => {
    const { proxy, count } = await cachedSetup(t, answer(headers, 'x', status ?? 200))
    await get(`${proxy.url}/a`)
    const second = await get(`${proxy.url}/a`)
    assert.equal(count(), 2)
    assert.match(second.headers['cache-status'] as string, /fwd=uri-miss; fwd-status=\d+$/)
  })
}

const stored: [string, Record<string, string>, number?][] = [
  ['Cache-Control: max-age', { 'cache-control': 'max-age=60' }],
  ['Cache-Control: s-maxage, which a shared cache takes over max-age=0', { 'cache-control': 'max-age=0, s-maxage=60' }],
  ['an Expires in the future', { expires: new Date(Date.now() + 60_000).toUTCString() }],
  [
    'Cache-Control: public and Last-Modified',
    { 'cache-control': 'public', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' },
  ],
  [
    'only Last-Modified, on a status cacheable by default (heuristic freshness)',
    { 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' },
  ],
  ['only Last-Modified on a 404', { 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' }, 404],
  [
    'Pragma: no-cache beside max-age (Pragma means nothing in a response)',
    { 'cache-control': 'max-age=60', pragma: 'no-cache' },
  ],
  [
    'Cache-Control: no-cache naming a field, which is left out',
    { 'cache-control': 'max-age=60, no-cache="x-secret"', 'x-secret': 's' },
  ],
  ['Cache-Control: immutable and max-age', { 'cache-control': 'max-age=60, immutable' }],
  ['must-understand on a status Portico understands (200)', { 'cache-control': 'max-age=60, must-understand' }],
]
for (const [what, headers, status] of stored) {
  test(`a response with ${what} is stored`, async (t) => {
    const { proxy, count } = await cachedSetup(t, answer(headers, 'x', status ?? 200))
    await get(`${proxy.url}/a`)
    const second = await get(`${proxy.url}/a`)
    assert.equal(count(), 1)
    assert.equal(second.status, status ?? 200)
    assert.equal(second.headers['x-secret'], undefined)
  })
}

test('heuristic freshness is 10% of the time since Last-Modified, capped by heuristic_max', async (t) => {
  const date = Date.now()
  const lastModified = new Date(date - 1000_000).toUTCString()
  const { proxy } = await cachedSetup(
    t,
    answer({ 'last-modified': lastModified, date: new Date(date).toUTCString() }),
    {
      heuristic_max: '30s',
    },
  )
  const first = await get(`${proxy.url}/a`)
  assert.match(first.headers['cache-status'] as string, /stored; ttl=(29|30)$/)
})

test('default_ttl gives freshness to a response whose backend states none', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({}), { default_ttl: '1m' })
  await get(`${proxy.url}/a`)
  const second = await get(`${proxy.url}/a`)
  assert.equal(count(), 1)
  assert.match(second.headers['cache-status'] as string, /hit; ttl=(59|60)$/)
})

test('a request with Authorization is stored only when the response allows it in a shared cache', async (t) => {
  const { proxy, count } = await cachedSetup(t, (req, res, n) => {
    const cc = req.url === '/public' ? 'public, max-age=60' : 'max-age=60'
    res.writeHead(200, { 'cache-control': cc, 'x-n': String(n) })
    res.end('x')
  })
  const auth = { authorization: 'Bearer t' }
  await get(`${proxy.url}/plain`, auth)
  await get(`${proxy.url}/plain`, auth)
  assert.equal(count(), 2)
  await get(`${proxy.url}/public`, auth)
  await get(`${proxy.url}/public`, auth)
  assert.equal(count(), 3)
})

test('store_set_cookie stores the response, and its cookie goes only to the client it was sent to', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }), {
    store_set_cookie: true,
  })
  const first = await get(`${proxy.url}/a`)
  const second = await get(`${proxy.url}/a`)
  assert.equal(count(), 1)
  assert.deepEqual(first.headers['set-cookie'], ['sid=1'])
  assert.equal(second.headers['set-cookie'], undefined)
})

test('Age counts the age the backend reported and the time since it was received (RFC 9111 §4.2.3)', async (t) => {
  const { proxy } = await cachedSetup(t, answer({ 'cache-control': 'max-age=600', age: '100' }))
  await get(`${proxy.url}/a`)
  const second = await get(`${proxy.url}/a`)
  assert.ok(Number(second.headers.age) >= 100)
  assert.match(second.headers['cache-status'] as string, /hit; ttl=(499|500)$/)
})

test('a stale entry is fetched again; max-stale lets a client take it, unless the response says must-revalidate', async (t) => {
  const { proxy, count } = await cachedSetup(t, (req, res, n) => {
    const cc = req.url === '/strict' ? 'max-age=60, must-revalidate' : 'max-age=60'
    res.writeHead(200, { 'cache-control': cc, age: '70', 'x-n': String(n) })
    res.end('x')
  })
  await get(`${proxy.url}/loose`)
  const stale = await get(`${proxy.url}/loose`)
  assert.equal(count(), 2)
  assert.match(stale.headers['cache-status'] as string, /fwd=stale/)
  const taken = await get(`${proxy.url}/loose`, { 'cache-control': 'max-stale=30' })
  assert.equal(count(), 2)
  assert.match(taken.headers['cache-status'] as string, /hit/)
  const tooOld = await get(`${proxy.url}/loose`, { 'cache-control': 'max-stale=5' })
  assert.equal(count(), 3)
  assert.match(tooOld.headers['cache-status'] as string, /fwd=stale/)
  await get(`${proxy.url}/strict`)
  await get(`${proxy.url}/strict`, { 'cache-control': 'max-stale' })
  assert.equal(count(), 5)
})

test('proxy-revalidate keeps a shared cache from serving the stale entry even to a client that accepts it', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({ 'cache-control': 'max-age=60, proxy-revalidate', age: '70' }))
  await get(`${proxy.url}/a`)
  const r = await get(`${proxy.url}/a`, { 'cache-control': 'max-stale=3600' })
  assert.equal(count(), 2)
  assert.match(r.headers['cache-status'] as string, /fwd=stale/)
})

test('request Cache-Control no-cache, max-age and min-fresh send the request on; Pragma: no-cache does when there is no Cache-Control', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({ 'cache-control': 'max-age=60', age: '10' }))
  await get(`${proxy.url}/a`)
  for (const headers of [
    { 'cache-control': 'no-cache' },
    { 'cache-control': 'max-age=5' },
    { 'cache-control': 'min-fresh=55' },
    { pragma: 'no-cache' },
  ]) {
    const before = count()
    const r = await get(`${proxy.url}/a`, headers)
    assert.equal(count(), before + 1, JSON.stringify(headers))
    assert.match(r.headers['cache-status'] as string, /fwd=request/)
  }
  await get(`${proxy.url}/a`, { 'cache-control': 'max-age=30', pragma: 'no-cache' })
  const hit = await get(`${proxy.url}/a`, { 'cache-control': 'min-fresh=10' })
  assert.match(hit.headers['cache-status'] as string, /hit/)
})

test('ignore_client_cache_control answers from the cache whatever the request says', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), { ignore_client_cache_control: true })
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/a`, { 'cache-control': 'no-cache' })
  assert.equal(count(), 1)
})

test('a request with Cache-Control: no-store has its response left unstored', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh))
  await get(`${proxy.url}/a`, { 'cache-control': 'no-store' })
  await get(`${proxy.url}/a`)
  assert.equal(count(), 2)
})

test('only-if-cached is answered 504 when nothing is stored, and from the cache when something is', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh))
  const miss = await get(`${proxy.url}/a`, { 'cache-control': 'only-if-cached' })
  assert.equal(miss.status, 504)
  assert.equal(count(), 0)
  await get(`${proxy.url}/a`)
  const hit = await get(`${proxy.url}/a`, { 'cache-control': 'only-if-cached' })
  assert.equal(hit.status, 200)
  assert.equal(count(), 1)
})

test('statuses limits what is stored', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh, 'gone', 404), { statuses: [200] })
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/a`)
  assert.equal(count(), 2)
})

test('a 206 from the backend to a Range request on a miss is not stored as the whole response', async (t) => {
  const { proxy, count } = await cachedSetup(t, (req, res) => {
    if (req.headers.range) res.writeHead(206, { ...fresh, 'content-range': 'bytes 0-1/5' }).end('he')
    else res.writeHead(200, fresh).end('hello')
  })
  assert.equal((await get(`${proxy.url}/a`, { range: 'bytes=0-1' })).body, 'he')
  assert.equal((await get(`${proxy.url}/a`)).body, 'hello')
  assert.equal(count(), 2)
})
