import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import type { RouteCache } from '../../src/cache/route-cache.ts'
import { cachedSetup } from '../cache/counting-backend.ts'
import { get } from '../helpers/http.ts'
import type { TestPortico } from '../helpers/portico.ts'

/** Resolves once `n` requests wait on another's fetch in the proxy's first route's cache. */
async function waiting(proxy: TestPortico, n: number): Promise<void> {
  const cache = proxy.plan().routes.routes[0]!.cache as RouteCache
  while (cache.waiting < n) await new Promise((resolve) => setImmediate(resolve))
}

test('100 concurrent misses for one object make exactly 1 backend request', async (t) => {
  const held: ServerResponse[] = []
  const { proxy, count } = await cachedSetup(t, (_req, res) => {
    held.push(res)
  })
  const replies = Array.from({ length: 100 }, () => get(`${proxy.url}/a`))
  await waiting(proxy, 99)
  assert.equal(held.length, 1)
  held[0]!.writeHead(200, { 'cache-control': 'max-age=60' }).end('one')
  const all = await Promise.all(replies)
  assert.equal(count(), 1)
  assert.ok(all.every((r) => r.status === 200 && r.body === 'one'))
  assert.equal(all.filter((r) => /collapsed/.test(r.headers['cache-status'] as string)).length, 99)
})

test('a response that is not storable releases the waiters at once, each to its own fetch', async (t) => {
  let first: ServerResponse | undefined
  const { proxy, count } = await cachedSetup(t, (_req, res, n) => {
    res.writeHead(200, { 'cache-control': 'no-store' })
    if (n === 1) {
      // The first response's head goes out, its body is held until the others are done.
      res.write('first;')
      first = res
    } else res.end(`n${n}`)
  })
  const leader = get(`${proxy.url}/a`)
  await waiting(proxy, 0)
  const others = Array.from({ length: 5 }, () => get(`${proxy.url}/a`))
  const done = await Promise.all(others)
  assert.equal(count(), 6)
  assert.ok(done.every((r) => /^n\d$/.test(r.body)))
  first!.end('end')
  assert.equal((await leader).body, 'first;end')
})

test('a waiter gives up after coalesce_timeout and fetches for itself', async (t) => {
  const held: ServerResponse[] = []
  const { proxy, count } = await cachedSetup(
    t,
    (_req, res, n) => {
      if (n === 1) held.push(res)
      else res.writeHead(200, { 'cache-control': 'max-age=60' }).end('second')
    },
    { coalesce_timeout: '100ms' },
  )
  const leader = get(`${proxy.url}/a`).catch(() => undefined)
  const waiter = get(`${proxy.url}/a`)
  await waiting(proxy, 1)
  const r = await waiter
  assert.equal(r.body, 'second')
  assert.equal(count(), 2)
  held[0]!.destroy()
  await leader
})

test('coalesce_timeout 0s turns coalescing off', async (t) => {
  const held: ServerResponse[] = []
  const { proxy, count } = await cachedSetup(
    t,
    (_req, res) => {
      held.push(res)
      if (held.length === 3) for (const h of held) h.writeHead(200, { 'cache-control': 'max-age=60' }).end('x')
    },
    { coalesce_timeout: '0s' },
  )
  await Promise.all([get(`${proxy.url}/a`), get(`${proxy.url}/a`), get(`${proxy.url}/a`)])
  assert.equal(count(), 3)
})

test('a leader whose backend fails releases its waiter at once, to its own fetch', async (t) => {
  const { proxy, count } = await cachedSetup(
    t,
    (_req, res, n) => {
      if (n === 1) {
        // Headers never come; the connection is cut once the other request waits.
        void waiting(proxy, 1).then(() => res.socket!.destroy())
        return
      }
      res.writeHead(200, { 'cache-control': 'no-store' }).end(`n${n}`)
    },
    {},
    {},
    {},
    { retries: { attempts: 1 } },
  )
  const [leader, waiter] = await Promise.all([get(`${proxy.url}/a`), get(`${proxy.url}/a`)])
  assert.equal(leader.status, 502)
  assert.equal(waiter.body, 'n2')
  assert.equal(count(), 2)
})
