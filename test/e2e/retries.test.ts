import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import type { ConfigInput } from '../../src/config/schema.ts'
import { startBackend } from '../helpers/backend.ts'
import { request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

type T = Parameters<typeof startBackend>[0]

/** A `host:port` where nothing listens. */
async function deadAddress(t: T): Promise<string> {
  const b = await startBackend(t, 'dead')
  b.server.close()
  await once(b.server, 'close')
  return b.address
}

/** A backend that cuts the connection of every request it gets. */
async function resetting(t: T): Promise<{ address: string; hits: () => number }> {
  let hits = 0
  const b = await startBackend(t, 'reset', (req) => {
    hits++
    req.socket.destroy()
  })
  return { address: b.address, hits: () => hits }
}

function pool(servers: string[], extra: Record<string, unknown> = {}): Partial<ConfigInput> {
  // Outlier detection off: these tests are about retries alone.
  return { pools: { web: { servers, outlier: { consecutive_failures: 0 }, ...extra } }, routes: [{ pool: 'web' }] }
}

test('a refused connection is retried on another server, even for a POST with a body', async (t) => {
  const good = await startBackend(t, 'good', (req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => res.end(`got ${body}`))
  })
  const proxy = await startPortico(t, pool([await deadAddress(t), good.address]))
  for (let i = 0; i < 4; i++) {
    const r = await request(proxy.url, { method: 'POST', body: 'payload' })
    assert.equal(r.status, 200)
    assert.equal(r.body, 'got payload')
  }
})

test('a reset GET is retried on another server; a reset POST is not', async (t) => {
  const bad = await resetting(t)
  const good = await startBackend(t, 'good')
  const proxy = await startPortico(t, pool([bad.address, good.address]))
  for (let i = 0; i < 2; i++) {
    const g = await request(proxy.url)
    assert.equal(g.status, 200)
    assert.equal(g.body, 'good')
  }
  const hits = bad.hits()
  // Round robin over two servers: of two POSTs, one lands on the resetting server and is not retried.
  const posts = [await request(proxy.url, { method: 'POST' }), await request(proxy.url, { method: 'POST' })]
  assert.deepEqual(posts.map((r) => r.status).sort(), [200, 502])
  assert.equal(bad.hits(), hits + 1)
})

test('a reset POST carrying Idempotency-Key is retried', async (t) => {
  const bad = await resetting(t)
  const good = await startBackend(t, 'good')
  const proxy = await startPortico(t, pool([bad.address, good.address]))
  const r = await request(proxy.url, { method: 'POST', headers: { 'idempotency-key': 'order-42' } })
  assert.equal(r.status, 200)
  assert.equal(bad.hits(), 1)
})

test('per_try_timeout gives up on a slow server and retries a GET on another', async (t) => {
  const slow = await startBackend(t, 'slow', () => {})
  const fast = await startBackend(t, 'fast')
  const proxy = await startPortico(t, pool([slow.address, fast.address], { retries: { per_try_timeout: '1s' } }))
  const r = await request(proxy.url)
  assert.equal(r.status, 200)
  assert.equal(r.body, 'fast')
})

test('attempts 1 turns retries off', async (t) => {
  const bad = await resetting(t)
  const good = await startBackend(t, 'good')
  const proxy = await startPortico(t, pool([bad.address, good.address], { retries: { attempts: 1 } }))
  assert.equal((await request(proxy.url)).status, 502)
})

test('the retry budget caps retries: once spent, a failed attempt is not retried', async (t) => {
  const bad = await resetting(t)
  const good = await startBackend(t, 'good')
  const proxy = await startPortico(t, pool([bad.address, good.address], { retries: { budget: 0, budget_burst: 2 } }))
  const outcomes: number[] = []
  for (let i = 0; i < 50 && outcomes.length < 4; i++) {
    const before = bad.hits()
    const r = await request(proxy.url)
    if (bad.hits() > before) outcomes.push(r.status)
  }
  assert.deepEqual(outcomes, [200, 200, 502, 502])
})

test('with every server down the client gets 502 after the attempts are spent', async (t) => {
  const proxy = await startPortico(t, pool([await deadAddress(t), await deadAddress(t), await deadAddress(t)]))
  assert.equal((await request(proxy.url)).status, 502)
})
