import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answer, cachedSetup } from '../cache/counting-backend.ts'
import { waitForLine } from '../cluster/output.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const fresh = { 'cache-control': 'max-age=60' }
const allowLocal = { purge: { allow: ['127.0.0.1/32', '::1/128'] } }

test('PURGE of a URL from an allowed address removes it, and only it', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), allowLocal)
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/b`)
  const purge = await request(`${proxy.url}/a`, { method: 'PURGE' })
  assert.equal(purge.status, 200)
  assert.equal(purge.body, 'Purged 1\n')
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/b`)
  assert.equal(count(), 3)
})

test('PURGE from an address not allowed gets 405 and removes nothing', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), { purge: { allow: ['10.0.0.0/8'] } })
  await get(`${proxy.url}/a`)
  const purge = await request(`${proxy.url}/a`, { method: 'PURGE' })
  assert.equal(purge.status, 405)
  await get(`${proxy.url}/a`)
  assert.equal(count(), 1)
})

test('PURGE of a path ending in * removes every URL under that prefix, variants and query strings included', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({ ...fresh, vary: 'accept-language' }), allowLocal)
  for (const path of ['/docs/1', '/docs/2?x=1', '/blog/1']) await get(`${proxy.url}${path}`)
  await get(`${proxy.url}/docs/1`, { 'accept-language': 'fr' })
  const purge = await request(`${proxy.url}/docs/*`, { method: 'PURGE' })
  assert.equal(purge.body, 'Purged 3\n')
  for (const path of ['/docs/1', '/docs/2?x=1', '/blog/1']) await get(`${proxy.url}${path}`)
  assert.equal(count(), 6)
})

test('PURGE with the tag header removes every response tagged with one of its tags', async (t) => {
  const { proxy, count } = await cachedSetup(
    t,
    (req, res) => {
      const tags = req.url === '/a' ? 'product-1 list' : req.url === '/b' ? 'product-2, list' : 'other'
      res.writeHead(200, { ...fresh, 'cache-tag': tags }).end('x')
    },
    { purge: { ...allowLocal.purge, tag_header: 'Cache-Tag' } },
  )
  for (const path of ['/a', '/b', '/c']) await get(`${proxy.url}${path}`)
  const purge = await request(`${proxy.url}/`, { method: 'PURGE', headers: { 'cache-tag': 'list' } })
  assert.equal(purge.body, 'Purged 2\n')
  for (const path of ['/a', '/b', '/c']) await get(`${proxy.url}${path}`)
  assert.equal(count(), 5)
})

test('a successful unsafe request invalidates its URL and its same-origin Location and Content-Location', async (t) => {
  const { proxy, count } = await cachedSetup(t, (req, res) => {
    if (req.method === 'POST') {
      const status = req.url === '/fail' ? 500 : 201
      res.writeHead(status, { location: '/created', 'content-location': 'http://elsewhere.example/other' }).end()
      return
    }
    res.writeHead(200, fresh).end('x')
  })
  const host = { host: 'site.example' }
  for (const path of ['/list', '/created', '/other', '/fail']) await get(`${proxy.url}${path}`, host)
  assert.equal(count(), 4)
  await request(`${proxy.url}/list`, { method: 'POST', headers: host, body: 'x' })
  await request(`${proxy.url}/fail`, { method: 'POST', headers: host, body: 'x' })
  for (const path of ['/list', '/created', '/other', '/fail']) await get(`${proxy.url}${path}`, host)
  // /list and /created were fetched again; /other is another origin's, /fail's POST failed.
  assert.equal(count(), 8)
})

test('a PURGE by tag reaches every worker', { timeout: 60_000 }, async (t) => {
  let fetched = 0
  const backend = await startBackend(t, 'b', (_req, res) => {
    fetched++
    res.writeHead(200, { ...fresh, 'surrogate-key': 'all' }).end('x')
  })
  const p = await spawnPortico(
    t,
    [
      'run',
      '-c',
      writeConfig({
        listeners: [{ address: '127.0.0.1:0' }],
        pools: { web: { servers: [backend.address] } },
        routes: [{ pool: 'web', cache: allowLocal }],
        workers: 2,
        access_log: { output: 'stdout', format: 'json' },
      }),
    ],
    { listeners: 1 },
  )
  const url = p.urls[0]!
  // Each request on a new connection: the kernel spreads connections, so 40 reach both workers.
  for (let i = 0; i < 40; i++) await get(`${url}/a`)
  const pids = await waitForLine(p, () => {
    const hits = p
      .output()
      .split('\n')
      .filter((l) => l.includes('"cache":"hit"'))
    return hits.length >= 38 ? new Set(hits.map((l) => JSON.parse(l).pid as number)) : undefined
  })
  assert.equal(pids.size, 2)
  assert.equal(fetched, 2)
  assert.equal((await request(`${url}/`, { method: 'PURGE', headers: { 'surrogate-key': 'all' } })).status, 200)
  // Both workers fetch it once more; a worker the purge missed would keep answering from its copy.
  for (let i = 0; i < 200 && fetched < 4; i++) await get(`${url}/a`)
  assert.equal(fetched, 4)
})
