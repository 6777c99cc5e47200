import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { startPortico, type TestPortico } from '../helpers/portico.ts'

/** A WebSocket echo backend on a free port that counts the tunnels it has accepted. */
async function startEchoBackend(t: TestContext, name: string) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const seen = { accepted: 0 }
  wss.on('connection', (ws) => {
    seen.accepted++
    ws.on('message', (data) => ws.send(`${name}:${data}`))
  })
  t.after(() => {
    for (const ws of wss.clients) ws.terminate()
    wss.close()
  })
  return { address: `127.0.0.1:${(wss.address() as AddressInfo).port}`, seen }
}

/** An address where nothing listens: connections to it are refused. */
async function refusingAddress(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  server.close()
  return address
}

/** Opens a WebSocket to Portico; closed when the test ends. */
function socket(t: TestContext, url: string): WebSocket {
  const ws = new WebSocket(url.replace(/^http/, 'ws'))
  ws.on('error', () => {})
  t.after(() => ws.terminate())
  return ws
}

/** Sends `text` and resolves with the next message. */
async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  ws.send(text)
  const [message] = await once(ws, 'message')
  return String(message)
}

/** Resolves once `proxy`'s pool `name` has `count` tunnels waiting in its queue; gives up when the test ends. */
async function queued(t: TestContext, proxy: TestPortico, name: string, count: number): Promise<void> {
  while (proxy.plan().pools.get(name)!.queued < count) {
    t.signal.throwIfAborted()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Closes Portico, which flushes its access log, and returns the lines written. */
async function logLines(proxy: TestPortico, file: string): Promise<string[]> {
  await proxy.close(0)
  return readFileSync(file, 'utf8').split('\n').filter(Boolean)
}

const logFile = () => join(mkdtempSync(join(tmpdir(), 'portico-ws-pool-')), 'access.log')

test('a WebSocket to a server at max_conns waits in the queue and opens the moment the tunnel before it closes', async (t) => {
  const backend = await startEchoBackend(t, 'a')
  const file = logFile()
  const proxy = await startPortico(t, {
    pools: { ws: { servers: [{ address: backend.address, max_conns: 1 }] } },
    routes: [{ pool: 'ws' }],
    access_log: { output: file, format: 'pretty' },
  })
  const first = socket(t, proxy.url)
  await once(first, 'open')
  const second = socket(t, proxy.url)
  await queued(t, proxy, 'ws', 1)
  assert.equal(backend.seen.accepted, 1, 'the second tunnel did not reach the server while the first held its slot')
  const opened = once(second, 'open')
  first.close()
  await opened
  assert.equal(await roundTrip(second, 'hi'), 'a:hi')
  second.close()
  await once(second, 'close')
  const lines = await logLines(proxy, file)
  assert.equal(lines.length, 2)
  assert.doesNotMatch(lines[0]!, /queued/)
  assert.match(lines[1]!, / 101 \d+B [\d.]+ms queued [\d.]+ms → ws\//, 'the readable line shows the queue wait')
})

test('a WebSocket that waits past the queue timeout gets 503 with Retry-After', async (t) => {
  const backend = await startEchoBackend(t, 'a')
  const proxy = await startPortico(t, {
    pools: {
      ws: {
        servers: [{ address: backend.address, max_conns: 1 }],
        limits: { queue_timeout: '100ms', retry_after: '3s' },
      },
    },
    routes: [{ pool: 'ws' }],
  })
  const first = socket(t, proxy.url)
  await once(first, 'open')
  const second = socket(t, proxy.url)
  const [, res] = (await once(second, 'unexpected-response')) as [unknown, IncomingMessage]
  res.resume()
  assert.equal(res.statusCode, 503)
  assert.equal(res.headers['retry-after'], '3')
  assert.equal(await roundTrip(first, 'still'), 'a:still', 'the open tunnel is untouched')
  assert.equal(backend.seen.accepted, 1)
})

test('max_in_flight counts open tunnels: one more waits in the queue', async (t) => {
  const a = await startEchoBackend(t, 'a')
  const b = await startEchoBackend(t, 'b')
  const proxy = await startPortico(t, {
    pools: { ws: { servers: [a.address, b.address], limits: { max_in_flight: 1 } } },
    routes: [{ pool: 'ws' }],
  })
  const first = socket(t, proxy.url)
  await once(first, 'open')
  const second = socket(t, proxy.url)
  await queued(t, proxy, 'ws', 1)
  assert.equal(a.seen.accepted + b.seen.accepted, 1)
  const opened = once(second, 'open')
  first.close()
  await opened
})

test('a WebSocket whose server refuses the connection is tunnelled to another server, and the retry is logged', async (t) => {
  const dead = await refusingAddress()
  const live = await startEchoBackend(t, 'live')
  const file = logFile()
  const proxy = await startPortico(t, {
    pools: { ws: { balancer: 'round_robin', servers: [dead, live.address] } },
    routes: [{ pool: 'ws' }],
    access_log: { output: file, format: 'json' },
  })
  for (let i = 0; i < 4; i++) {
    const ws = socket(t, proxy.url)
    await once(ws, 'open')
    assert.equal(await roundTrip(ws, String(i)), `live:${i}`)
    ws.close()
    await once(ws, 'close')
  }
  const records = (await logLines(proxy, file)).map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual(
    records.map((r) => [r.status, r.outcome, r.server]),
    Array.from({ length: 4 }, () => [101, 'ok', live.address]),
  )
  const retried = records.filter((r) => r.retried === 'backend_refused')
  assert.ok(retried.length >= 1, 'round_robin sent at least one tunnel to the refusing server first')
  assert.ok(retried.every((r) => r.attempts === 2))
})

test('a WebSocket whose only server refuses still gets 502 once its attempts are spent', async (t) => {
  const dead = await refusingAddress()
  const proxy = await startPortico(t, { pools: { ws: { servers: [dead] } }, routes: [{ pool: 'ws' }] })
  const ws = socket(t, proxy.url)
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
  res.resume()
  assert.equal(res.statusCode, 502)
})
