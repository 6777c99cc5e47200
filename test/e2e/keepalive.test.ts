import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { silentEvents } from '../../src/log/events.ts'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'

/** A GET through `agent` (keep-alive); resolves with the status. */
function getWith(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
      .on('error', reject)
      .end()
  })
}

test('500 requests from 10 keep-alive clients reach the backend over a handful of connections', async (t) => {
  const backend = await startBackend(t, 'b')
  let connections = 0
  backend.server.on('connection', () => connections++)
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  const agent = new Agent({ keepAlive: true, maxSockets: 10 })
  t.after(() => agent.destroy())
  const statuses = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const seen: number[] = []
      for (let i = 0; i < 50; i++) seen.push(await getWith(agent, proxy.url))
      return seen
    }),
  )
  assert.deepEqual(new Set(statuses.flat()), new Set([200]))
  t.diagnostic(`${connections} backend connections for 500 requests`)
  assert.ok(connections <= 20, `${connections} backend connections for 500 requests`)
})

test('requests spaced just past a backend keep-alive timeout of 300 ms never get a 502', async (t) => {
  const backend = await startBackend(t, 'b')
  backend.server.keepAliveTimeout = 300
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    statuses.push((await request(proxy.url)).status)
    // The spacing is the point of this test: each request comes just after the backend's idle limit.
    await delay(320)
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200])
})

test('Portico closes an idle backend connection before the Keep-Alive timeout the backend announces', async (t) => {
  let answered = 0
  const backend = await startRawBackend(t, (socket) => {
    answered = performance.now()
    socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=3\r\ncontent-length: 2\r\n\r\nok')
  })
  const closed = new Promise<number>((resolve) =>
    backend.server.once('connection', (socket) => socket.once('end', () => resolve(performance.now()))),
  )
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  assert.equal((await request(proxy.url)).status, 200)
  const idleMs = (await closed) - answered
  assert.ok(idleMs < 3000, `the connection stayed idle ${idleMs} ms against an announced 3000 ms`)
})

test('a backend that closes idle connections after 300 ms without announcing it never causes a 502', async (t) => {
  const backend = await startRawBackend(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    socket.setTimeout(300, () => socket.end())
  })
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    statuses.push((await request(proxy.url)).status)
    await delay(350)
  }
  assert.deepEqual(statuses, [200, 200, 200, 200])
  assert.equal(backend.connections(), 4)
})

/** A backend that answers the first request on a connection and drops the connection on the next one. */
async function dropsSecondRequest(t: Parameters<typeof startRawBackend>[0]) {
  return startRawBackend(t, (socket, _head, index) => {
    if (index === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    else socket.destroy()
  })
}

for (const method of ['GET', 'DELETE']) {
  test(`an idempotent ${method} that meets a dropped keep-alive connection is retried on a fresh one`, async (t) => {
    const backend = await dropsSecondRequest(t)
    const log = accessLogFile(t)
    const proxy = await startPortico(t, {
      pools: { b: { servers: [backend.address] } },
      routes: [{ pool: 'b' }],
      access_log: { output: log, format: 'json' },
    })
    assert.equal((await request(proxy.url)).status, 200)
    const second = await request(proxy.url, { method })
    assert.equal(second.status, 200)
    assert.equal(second.body, 'ok')
    assert.equal(backend.connections(), 2)
    const lines = await readLogRecords(proxy, log)
    assert.equal(lines[1].outcome, 'ok')
    assert.equal(lines[1].attempts, 2)
    assert.equal(lines[1].retried, 'stale_connection')
  })
}

test('a POST without a body written on a keep-alive connection the backend then drops gets 502, never a replay, and the event log says so (#21)', async (t) => {
  const backend = await dropsSecondRequest(t)
  const warnings: string[] = []
  const events = { ...silentEvents, warn: (message: string) => void warnings.push(message) }
  const config = { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] }
  const proxy = await startPortico(t, config, events)
  assert.equal((await request(proxy.url)).status, 200)
  assert.equal((await request(proxy.url, { method: 'POST' })).status, 502)
  assert.equal(backend.connections(), 1)
  assert.deepEqual(warnings, [
    'request not retried: the server closed a reused connection after the request was written',
  ])
})

test('a POST whose body was already sent on a dropped keep-alive connection gets 502, never a replay', async (t) => {
  const backend = await dropsSecondRequest(t)
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  assert.equal((await request(proxy.url)).status, 200)
  const reply = await request(proxy.url, { method: 'POST', body: 'pay once' })
  assert.equal(reply.status, 502)
  assert.equal(backend.connections(), 1)
})
