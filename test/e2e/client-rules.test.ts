import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

// Addresses the embedded database places in Germany and France.
const german = '85.214.1.1'
const french = '193.51.224.1'

test('a route whose deny list holds the client answers 403 Forbidden and the backend never sees the request', async (t) => {
  let seen = 0
  const backend = await startBackend(t, 'b', (_req, res) => {
    seen++
    res.end('b')
  })
  const p = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      { match: { path: '/closed' }, pool: 'web', clients: { deny: ['127.0.0.0/8'] } },
      { pool: 'web', clients: { deny: ['10.0.0.0/8'] } },
    ],
  })
  const denied = await request(`${p.url}/closed`, { method: 'POST', body: 'x' })
  assert.equal(denied.status, 403)
  assert.equal(denied.body, 'Forbidden\n')
  assert.equal(seen, 0)
  assert.equal((await get(`${p.url}/open`)).status, 200)
  assert.equal(seen, 1)
})

test('a route allow list admits only the clients it names, IPv4-mapped IPv6 as IPv4', async (t) => {
  const p = await startPortico(t, {
    pools: {},
    routes: [
      { match: { path: '/v6' }, respond: { body: 'in' }, clients: { allow: ['2001:db8::/32'] } },
      { respond: { body: 'in' }, clients: { allow: ['::ffff:127.0.0.1'] } },
    ],
  })
  assert.equal((await get(`${p.url}/v6`)).status, 403)
  assert.equal((await get(`${p.url}/any`)).body, 'in')
})

test('behind a trusted proxy a route refuses by the country of the address it names', async (t) => {
  const p = await startPortico(t, {
    pools: {},
    trusted_proxies: ['127.0.0.1'],
    routes: [{ respond: { body: 'in' }, clients: { deny: ['DE'] } }],
  })
  assert.equal((await get(p.url, { 'x-forwarded-for': german })).status, 403)
  assert.equal((await get(p.url, { 'x-forwarded-for': french })).body, 'in')
})

test("a route's lists refuse a client before its rate limits count it", async (t) => {
  const p = await startPortico(t, {
    pools: {},
    trusted_proxies: ['127.0.0.1'],
    routes: [
      {
        respond: { body: 'in' },
        clients: { deny: ['203.0.113.0/24'] },
        rate_limits: [{ key: ['route'], rate: 1, per: '1m', burst: 1, store: 'local' }],
      },
    ],
  })
  for (let i = 0; i < 3; i++) assert.equal((await get(p.url, { 'x-forwarded-for': '203.0.113.9' })).status, 403)
  assert.equal((await get(p.url, { 'x-forwarded-for': '198.51.100.1' })).body, 'in')
  assert.equal((await get(p.url, { 'x-forwarded-for': '198.51.100.1' })).status, 429)
})
