import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { type TestContext, test } from 'node:test'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { type Backend, startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico, testConfig } from '../helpers/portico.ts'

/**
 * A backend that holds every response until the test ends it: `held` lists them in arrival order,
 * and the server's 'request' event comes after the response joined the list. The rest end with the test.
 */
async function holdingBackend(t: TestContext): Promise<{ backend: Backend; held: ServerResponse[] }> {
  const held: ServerResponse[] = []
  const backend = await startBackend(t, 'held', (_req, res) => {
    held.push(res)
  })
  t.after(() => {
    for (const res of held) res.end()
  })
  return { backend, held }
}

test('max_conns 2 with 20 concurrent slow requests: the backend never sees more than 2 at once, all 20 succeed', async (t) => {
  let now = 0
  let most = 0
  const backend = await startBackend(t, 'slow', (_req, res) => {
    most = Math.max(most, ++now)
    setTimeout(() => {
      now--
      res.end('done')
    }, 20)
  })
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [{ address: backend.address, max_conns: 2 }] } },
    routes: [{ pool: 'web' }],
    access_log: { output: log, format: 'json' },
  })
  const replies = await Promise.all(Array.from({ length: 20 }, () => get(proxy.url)))
  assert.deepEqual(
    replies.map((r) => r.status),
    Array(20).fill(200),
  )
  assert.equal(most, 2)
  const lines = await readLogRecords(proxy, log)
  const queued = lines.filter((l) => l.queue_ms !== undefined)
  assert.ok(queued.length >= 10, `${queued.length} of 20 waited in the queue`)
  assert.ok(queued.every((l) => l.queue_ms! >= 0 && typeof l.queue_depth === 'number'))
  assert.ok(Math.max(...queued.map((l) => l.queue_depth!)) > 5)
})

test('with a short queue timeout the excess gets 503 with Retry-After, and the rest succeed', async (t) => {
  const { backend, held } = await holdingBackend(t)
  const proxy = await startPortico(t, {
    pools: {
      web: {
        servers: [{ address: backend.address, max_conns: 1 }],
        limits: { queue_timeout: '100ms', retry_after: '3s' },
      },
    },
    routes: [{ pool: 'web' }],
  })
  const first = get(proxy.url)
  const excess = await Promise.all(Array.from({ length: 4 }, () => get(proxy.url)))
  for (const r of excess) {
    assert.equal(r.status, 503)
    assert.equal(r.headers['retry-after'], '3')
  }
  assert.equal(held.length, 1)
  held[0]!.end('first')
  assert.equal((await first).status, 200)
})

test('a full queue answers 503 at once', async (t) => {
  const { backend, held } = await holdingBackend(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [{ address: backend.address, max_conns: 1 }], limits: { max_queued: 1 } } },
    routes: [{ pool: 'web' }],
  })
  const first = get(proxy.url)
  await once(backend.server, 'request')
  const queued = get(proxy.url)
  const full = await get(proxy.url)
  assert.equal(full.status, 503)
  assert.equal(full.headers['retry-after'], '1')
  held[0]!.end('1')
  await first
  // The queued request started the moment the slot freed.
  while (held.length < 2) await once(backend.server, 'request')
  held[1]!.end('2')
  assert.equal((await queued).status, 200)
})

test('a request queued when the config reloads starts as soon as the slot frees', async (t) => {
  const { backend, held } = await holdingBackend(t)
  const config = {
    pools: { web: { servers: [{ address: backend.address, max_conns: 1 }] } },
    routes: [{ pool: 'web' }],
  }
  const proxy = await startPortico(t, config)
  const first = get(proxy.url)
  await once(backend.server, 'request')
  const queued = get(proxy.url)
  const pool = proxy.plan().pools.get('web')!
  while (pool.queued === 0) await new Promise((resolve) => setImmediate(resolve))
  proxy.reload(testConfig(config))
  assert.equal(proxy.plan().pools.get('web')!.queued, 1)
  held[0]!.end('1')
  await first
  while (held.length < 2) await once(backend.server, 'request')
  held[1]!.end('2')
  const r = await queued
  assert.equal(r.status, 200)
  assert.equal(r.body, '2')
})
