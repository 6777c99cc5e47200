import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import type { ConfigInput } from '../../src/config/schema.ts'
import { silentEvents } from '../../src/log/events.ts'
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

test('a retry budget of none stops the retry of a reset GET, never that of a refused connection (#21)', async (t) => {
  const bad = await resetting(t)
  const good = await startBackend(t, 'good')
  const none = { retries: { budget: 0, budget_burst: 0 } }
  const proxy = await startPortico(t, pool([bad.address, good.address], none))
  const outcomes: number[] = []
  for (let i = 0; i < 50 && outcomes.length < 2; i++) {
    const before = bad.hits()
    const r = await request(proxy.url)
    if (bad.hits() > before) outcomes.push(r.status)
  }
  assert.deepEqual(outcomes, [502, 502])
  const refusing = await startPortico(t, pool([await deadAddress(t), good.address], none))
  for (let i = 0; i < 4; i++) assert.equal((await request(refusing.url)).status, 200)
})

test('a server that dies with more requests in flight than the retry budget allows costs none of them (#21)', async (t) => {
  // The dying server holds every request it gets until it has `held`, then drops them all at once.
  const held = 6
  const waiting: IncomingMessage[] = []
  const dying = await startBackend(t, 'dying', (req) => {
    waiting.push(req)
    if (waiting.length === held) for (const r of waiting) r.socket.destroy()
  })
  const good = await startBackend(t, 'good')
  // A budget of one retry at a time: only the first request a server drops is charged to it.
  const proxy = await startPortico(
    t,
    pool([dying.address, good.address], { balancer: 'round_robin', retries: { budget: 0, budget_burst: 1 } }),
  )
  const replies = await Promise.all(Array.from({ length: 2 * held }, () => request(proxy.url)))
  assert.deepEqual(
    replies.map((r) => `${r.status} ${r.body}`),
    Array.from({ length: 2 * held }, () => '200 good'),
  )
  assert.equal(waiting.length, held)
})

test('a refused connection is retried past the attempts while a server is untried, so dead servers alone cost no answer (#21)', async (t) => {
  const dead = await Promise.all([deadAddress(t), deadAddress(t), deadAddress(t), deadAddress(t)])
  const good = await startBackend(t, 'good')
  const proxy = await startPortico(t, pool([...dead, good.address], { retries: { attempts: 2 } }))
  for (let i = 0; i < 5; i++) assert.equal((await request(proxy.url)).status, 200)
})

test('with every server down the client gets 502 after the attempts are spent', async (t) => {
  const proxy = await startPortico(t, pool([await deadAddress(t), await deadAddress(t), await deadAddress(t)]))
  assert.equal((await request(proxy.url)).status, 502)
})

/**
 * A raw backend that reads every request whole (head and Content-Length body) and records it,
 * answers the first request on each connection, and closes a reused connection without answering:
 * the backend that read a POST, acted on it, and died before its answer.
 */
async function actsThenDrops(t: T): Promise<{ address: string; seen: string[] }> {
  const seen: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffered = Buffer.alloc(0)
    let index = 0
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buffered.subarray(0, end).toString('latin1')
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
        if (buffered.length < end + 4 + length) return
        const body = buffered.subarray(end + 4, end + 4 + length).toString()
        buffered = buffered.subarray(end + 4 + length)
        seen.push(`${head.slice(0, head.indexOf(' '))} ${body}`)
        if (index++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
        else socket.destroy()
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const c of sockets) c.destroy()
    server.close()
  })
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, seen }
}

for (const buffered of [false, true]) {
  test(`a POST${buffered ? ' with a buffered body' : ''} that a backend read whole on a reused connection and dropped unanswered runs once and gets 502 (#21)`, async (t) => {
    const a = await actsThenDrops(t)
    const b = await actsThenDrops(t)
    const extra = buffered ? { buffering: { request: {} } } : {}
    const proxy = await startPortico(t, {
      pools: { web: { servers: [a.address, b.address], outlier: { consecutive_failures: 0 } } },
      routes: [{ pool: 'web', ...extra }],
    })
    // One GET to each server leaves an idle keep-alive connection to each.
    assert.equal((await request(proxy.url)).status, 200)
    assert.equal((await request(proxy.url)).status, 200)
    const r = await request(proxy.url, { method: 'POST', body: 'pay once' })
    assert.equal(r.status, 502)
    const posts = [...a.seen, ...b.seen].filter((line) => line.startsWith('POST'))
    assert.deepEqual(posts, ['POST pay once'])
  })
}

test('a retry that finds no server gives its share of the budget back (#21)', async (t) => {
  const bad = await resetting(t)
  let back: (() => void) | undefined
  const events = { ...silentEvents, info: (message: string) => message === 'server back from ejection' && back?.() }
  const proxy = await startPortico(
    t,
    {
      pools: {
        web: {
          servers: [bad.address],
          outlier: { consecutive_failures: 1, base_ejection: '50ms', max_ejection: '50ms' },
          retries: { budget: 0, budget_burst: 1 },
        },
      },
      routes: [{ pool: 'web' }],
    },
    events,
  )
  // Each GET is reset, ejects the only server, and its retry finds none: 503, the budget spent and given back.
  for (let i = 0; i < 3; i++) {
    const returned = new Promise<void>((resolve) => (back = resolve))
    assert.equal((await request(proxy.url)).status, 503)
    await returned
  }
})
