import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import type { RouteCache } from '../../src/cache/route-cache.ts'
import { cachedSetup } from '../cache/counting-backend.ts'
import { get } from '../helpers/http.ts'
import type { TestPortico } from '../helpers/portico.ts'

/** Resolves once no background refresh runs in the proxy's first route's cache. */
async function refreshed(proxy: TestPortico): Promise<void> {
  const cache = proxy.plan().routes.routes[0]!.cache as RouteCache
  while (cache.refreshing > 0) await new Promise((resolve) => setImmediate(resolve))
}

// Stored already stale: Age beyond max-age.
const staleAnd = (extra: string) => ({ 'cache-control': `max-age=60${extra}`, age: '100' })

test('stale-if-error serves the stale entry when the backend is stopped', async (t) => {
  const { proxy, count, stop } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, staleAnd(', stale-if-error=600')).end('kept')
  })
  await get(`${proxy.url}/a`)
  assert.equal(count(), 1)
  stop()
  const r = await get(`${proxy.url}/a`)
  assert.equal(r.status, 200)
  assert.equal(r.body, 'kept')
  assert.match(r.headers['cache-status'] as string, /hit; ttl=-\d+; detail=stale-if-error/)
})

test('stale-if-error serves the stale entry when the backend answers 500, 502, 503 or 504', async (t) => {
  const { proxy } = await cachedSetup(t, (_req, res, n) => {
    if (n === 1) res.writeHead(200, staleAnd(', stale-if-error=600')).end('kept')
    else res.writeHead(503, { 'content-type': 'text/plain' }).end('down')
  })
  await get(`${proxy.url}/a`)
  const r = await get(`${proxy.url}/a`)
  assert.equal(r.status, 200)
  assert.equal(r.body, 'kept')
  assert.match(r.headers['cache-status'] as string, /fwd=stale; fwd-status=503; detail=stale-if-error/)
})

test('past its stale-if-error window the error reaches the client', async (t) => {
  const { proxy } = await cachedSetup(t, (_req, res, n) => {
    if (n === 1) res.writeHead(200, staleAnd(', stale-if-error=5')).end('kept')
    else res.writeHead(503).end('down')
  })
  await get(`${proxy.url}/a`)
  assert.equal((await get(`${proxy.url}/a`)).status, 503)
})

test('the route grace serves stale on errors when the backend said nothing, but never past must-revalidate', async (t) => {
  const handler = (cc: string) => (_req: unknown, res: ServerResponse, n: number) => {
    if (n === 1) res.writeHead(200, { 'cache-control': cc, age: '100' }).end('kept')
    else res.writeHead(502).end('down')
  }
  const graced = await cachedSetup(t, handler('max-age=60'), { grace: '1h' })
  await get(`${graced.proxy.url}/a`)
  assert.equal((await get(`${graced.proxy.url}/a`)).body, 'kept')
  const none = await cachedSetup(t, handler('max-age=60'))
  await get(`${none.proxy.url}/a`)
  assert.equal((await get(`${none.proxy.url}/a`)).status, 502)
  const strict = await cachedSetup(t, handler('max-age=60, must-revalidate'), { grace: '1h' })
  await get(`${strict.proxy.url}/a`)
  assert.equal((await get(`${strict.proxy.url}/a`)).status, 502)
})

test('stale-while-revalidate serves stale at once while exactly one background request refreshes the entry', async (t) => {
  const held: ServerResponse[] = []
  const { proxy, count } = await cachedSetup(t, (_req, res, n) => {
    if (n === 1) res.writeHead(200, staleAnd(', stale-while-revalidate=600')).end('one')
    else held.push(res)
  })
  await get(`${proxy.url}/a`)
  const second = await get(`${proxy.url}/a`)
  const third = await get(`${proxy.url}/a`)
  assert.equal(second.body, 'one')
  assert.equal(third.body, 'one')
  assert.match(second.headers['cache-status'] as string, /hit; ttl=-\d+; detail=stale-while-revalidate/)
  assert.equal(count(), 2)
  held[0]!.writeHead(200, { 'cache-control': 'max-age=60' }).end('two')
  await refreshed(proxy)
  const fourth = await get(`${proxy.url}/a`)
  assert.equal(fourth.body, 'two')
  assert.match(fourth.headers['cache-status'] as string, /^Portico; hit; ttl=\d+$/)
  assert.equal(count(), 2)
})

test('a background refresh revalidates with the stored validators, and a 304 makes the entry fresh', async (t) => {
  const { proxy, count, seen } = await cachedSetup(t, (req, res) => {
    if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, { 'cache-control': 'max-age=60' }).end()
    else res.writeHead(200, { ...staleAnd(', stale-while-revalidate=600'), etag: '"v1"' }).end('one')
  })
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/a`, { 'if-none-match': '"other"' })
  await refreshed(proxy)
  assert.equal(seen[1]!.headers['if-none-match'], '"v1"')
  const fresh = await get(`${proxy.url}/a`)
  assert.equal(fresh.body, 'one')
  assert.match(fresh.headers['cache-status'] as string, /^Portico; hit; ttl=\d+$/)
  assert.equal(count(), 2)
})

test('a background refresh is sent as the client’s GET: its headers and client address, without its own conditionals', async (t) => {
  const { proxy, seen } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, staleAnd(', stale-while-revalidate=600')).end('one')
  })
  await get(`${proxy.url}/a?q=1`)
  await get(`${proxy.url}/a?q=1`, { 'accept-language': 'fr', 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' })
  await refreshed(proxy)
  const refresh = seen[1]!
  assert.equal(refresh.method, 'GET')
  assert.equal(refresh.url, '/a?q=1')
  assert.equal(refresh.headers['accept-language'], 'fr')
  assert.equal(refresh.headers['if-modified-since'], undefined)
  assert.equal(refresh.headers['x-forwarded-for'], seen[0]!.headers['x-forwarded-for'])
  assert.ok(refresh.headers['x-forwarded-for'])
})

test('stale-if-error serves the stale entry when the backend times out', async (t) => {
  const { proxy } = await cachedSetup(
    t,
    (_req, res, n) => {
      // Later requests get no answer at all: the pool's response_headers timeout ends them.
      if (n === 1) res.writeHead(200, staleAnd(', stale-if-error=600')).end('kept')
    },
    {},
    {},
    {},
    { timeouts: { response_headers: '200ms' } },
  )
  await get(`${proxy.url}/a`)
  const r = await get(`${proxy.url}/a`)
  assert.equal(r.status, 200)
  assert.equal(r.body, 'kept')
  assert.match(r.headers['cache-status'] as string, /hit; ttl=-\d+; detail=stale-if-error/)
})

test('stale-if-error serves the stale entry when the pool has no usable server', async (t) => {
  let healthy = true
  const { proxy } = await cachedSetup(
    t,
    (req, res) => {
      if (req.url === '/health') res.writeHead(healthy ? 200 : 500).end()
      else if (req.url === '/a') {
        res.writeHead(200, staleAnd(', stale-if-error=600')).end('kept')
        healthy = false
      } else res.writeHead(200, { 'cache-control': 'no-store' }).end('probe')
    },
    {},
    {},
    {},
    {
      health_check: { path: '/health', interval: '50ms', rise: 1, fall: 1, unknown_takes_traffic: true },
      panic_threshold: 0,
    },
  )
  await get(`${proxy.url}/a`)
  // The server is out once a request the cache cannot answer gets 503.
  while ((await get(`${proxy.url}/probe`)).status !== 503) await new Promise((resolve) => setImmediate(resolve))
  const r = await get(`${proxy.url}/a`)
  assert.equal(r.status, 200)
  assert.equal(r.body, 'kept')
  assert.match(r.headers['cache-status'] as string, /hit; ttl=-\d+; detail=stale-if-error/)
})
