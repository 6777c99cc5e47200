import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { type AddressInfo, connect, createServer } from 'node:net'
import { type TestContext, test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'

/** A WebSocket echo backend on a free port; `sockets` are its server-side connections. */
async function startEchoBackend(t: TestContext) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const sockets: WebSocket[] = []
  const requests: IncomingMessage[] = []
  wss.on('connection', (ws, req) => {
    sockets.push(ws)
    requests.push(req)
    ws.on('message', (data, binary) => ws.send(data, { binary }))
  })
  t.after(() => {
    for (const ws of wss.clients) ws.terminate()
    wss.close()
  })
  return { address: `127.0.0.1:${(wss.address() as AddressInfo).port}`, sockets, requests }
}

/** Opens a WebSocket to Portico and waits until it is open. */
async function openSocket(t: TestContext, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'))
  t.after(() => ws.terminate())
  await once(ws, 'open')
  return ws
}

/** Sends `data` and resolves with the next message. */
async function roundTrip(ws: WebSocket, data: string | Buffer): Promise<Buffer> {
  ws.send(data)
  const [message] = await once(ws, 'message')
  return message as Buffer
}

test('WebSocket messages echo through Portico both ways, text and a 1 MiB binary message', async (t) => {
  const backend = await startEchoBackend(t)
  const proxy = await startPortico(t, { pools: { ws: { servers: [backend.address] } }, routes: [{ pool: 'ws' }] })
  const ws = await openSocket(t, `${proxy.url}/chat`)
  assert.equal((await roundTrip(ws, 'hello')).toString(), 'hello')
  const big = Buffer.alloc(1024 * 1024, 7)
  assert.ok((await roundTrip(ws, big)).equals(big))
  assert.equal(backend.requests[0]!.url, '/chat')
  assert.equal(backend.requests[0]!.headers['x-forwarded-for'], '127.0.0.1')
})

test('a client closing its WebSocket closes the backend side', async (t) => {
  const backend = await startEchoBackend(t)
  const proxy = await startPortico(t, { pools: { ws: { servers: [backend.address] } }, routes: [{ pool: 'ws' }] })
  const ws = await openSocket(t, proxy.url)
  await roundTrip(ws, 'hi')
  const closed = once(backend.sockets[0]!, 'close')
  ws.close(1000, 'bye')
  const [code, reason] = await closed
  assert.equal(code, 1000)
  assert.equal(reason.toString(), 'bye')
})

test('a client that drops its connection without a close frame closes the backend side', async (t) => {
  const backend = await startEchoBackend(t)
  const proxy = await startPortico(t, { pools: { ws: { servers: [backend.address] } }, routes: [{ pool: 'ws' }] })
  const ws = await openSocket(t, proxy.url)
  await roundTrip(ws, 'hi')
  const closed = once(backend.sockets[0]!, 'close')
  ws.terminate()
  await closed
  assert.equal((await get(proxy.url)).status, 426)
})

test('a backend closing its WebSocket closes the client side', async (t) => {
  const backend = await startEchoBackend(t)
  const proxy = await startPortico(t, { pools: { ws: { servers: [backend.address] } }, routes: [{ pool: 'ws' }] })
  const ws = await openSocket(t, proxy.url)
  await roundTrip(ws, 'hi')
  const closed = once(ws, 'close')
  backend.sockets[0]!.close(4000, 'going away')
  const [code, reason] = await closed
  assert.equal(code, 4000)
  assert.equal(reason.toString(), 'going away')
})

test('timeouts.websocket_idle closes a tunnel with no traffic either way', async (t) => {
  const backend = await startEchoBackend(t)
  const proxy = await startPortico(t, {
    pools: { ws: { servers: [backend.address] } },
    routes: [{ pool: 'ws' }],
    timeouts: { websocket_idle: '300ms' },
  })
  const ws = await openSocket(t, proxy.url)
  const opened = performance.now()
  const backendClosed = once(backend.sockets[0]!, 'close')
  await once(ws, 'close')
  await backendClosed
  assert.ok(performance.now() - opened >= 250, 'closed only once idle for the configured time')
})

test('an upgrade to a backend that refuses connections gets 502, logged once', async (t) => {
  const address = await closedPort()
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    pools: { ws: { servers: [address] } },
    routes: [{ pool: 'ws' }],
    access_log: { output: log, format: 'json' },
  })
  const ws = new WebSocket(proxy.url.replace(/^http/, 'ws'))
  ws.on('error', () => {})
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
  assert.equal(res.statusCode, 502)
  res.resume()
  await once(res, 'end')
  const lines = await readLogRecords(proxy, log)
  assert.deepEqual(
    lines.map((l) => [l.status, l.outcome]),
    [[502, 'backend_refused']],
  )
})

/** Opens a WebSocket that Portico refuses; resolves with the status of the refusal. */
async function refusedStatus(url: string): Promise<number> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'))
  ws.on('error', () => {})
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
  res.resume()
  return res.statusCode!
}

test('an upgrade the backend hangs up on without answering gets 502', async (t) => {
  const backend = await startRawBackend(t, (socket) => socket.destroy())
  const proxy = await startPortico(t, { pools: { ws: { servers: [backend.address] } }, routes: [{ pool: 'ws' }] })
  assert.equal(await refusedStatus(proxy.url), 502)
})

test('an upgrade the backend never answers gets 504 after the response_headers timeout', async (t) => {
  const backend = await startRawBackend(t, () => {})
  const proxy = await startPortico(t, {
    pools: { ws: { servers: [backend.address], timeouts: { response_headers: '200ms' } } },
    routes: [{ pool: 'ws' }],
  })
  assert.equal(await refusedStatus(proxy.url), 504)
})

test("a backend's refusal of the upgrade (401) reaches the client", async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: () => false })
  await once(wss, 'listening')
  t.after(() => wss.close())
  const address = `127.0.0.1:${(wss.address() as AddressInfo).port}`
  const proxy = await startPortico(t, { pools: { ws: { servers: [address] } }, routes: [{ pool: 'ws' }] })
  const ws = new WebSocket(proxy.url.replace(/^http/, 'ws'))
  ws.on('error', () => {})
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
  assert.equal(res.statusCode, 401)
})

test('shutdown lets a WebSocket work through the grace period, then closes it', async (t) => {
  const backend = await startEchoBackend(t)
  const proxy = await startPortico(t, { pools: { ws: { servers: [backend.address] } }, routes: [{ pool: 'ws' }] })
  const ws = await openSocket(t, proxy.url)
  const closed = once(ws, 'close')
  const backendClosed = once(backend.sockets[0]!, 'close')
  const stopped = proxy.close(500)
  assert.equal((await roundTrip(ws, 'still here')).toString(), 'still here')
  await closed
  await backendClosed
  await stopped
})

test("a backend's refusal of an upgrade is relayed as an ordinary response and logged once, with its status (#21)", async (t) => {
  const backend = await startRawBackend(t, (socket) =>
    socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nX-Why: origin\r\n\r\nno way'),
  )
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    pools: { ws: { servers: [backend.address] } },
    routes: [{ pool: 'ws', response_headers: { set: { 'x-route': 'ws' } } }],
    access_log: { output: log, format: 'json' },
  })
  const ws = new WebSocket(proxy.url.replace(/^http/, 'ws'))
  ws.on('error', () => {})
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
  assert.equal(res.statusCode, 403)
  // An ordinary response: the route's response phases ran, and the connection ends with it.
  assert.equal(res.headers['x-why'], 'origin')
  assert.equal(res.headers['x-route'], 'ws')
  assert.equal(res.headers.connection, 'close')
  let body = ''
  for await (const chunk of res) body += chunk
  assert.equal(body, 'no way')
  const lines = await readLogRecords(proxy, log)
  assert.deepEqual(
    lines.map((l) => [l.status, l.outcome]),
    [[403, 'ok']],
  )
})

test('a tunnel carries 16 MiB each way, every byte intact, to a client that reads slowly', {
  timeout: 60_000,
}, async (t) => {
  // A backend that switches protocols and then echoes every byte, with the backpressure of pipe().
  const backend = createServer((socket) => {
    let head = ''
    const onHead = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onHead)
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
      socket.pipe(socket)
    }
    socket.on('data', onHead)
  })
  backend.listen(0, '127.0.0.1')
  await once(backend, 'listening')
  t.after(() => backend.close())
  const port = (backend.address() as AddressInfo).port
  const proxy = await startPortico(t, { pools: { ws: { servers: [`127.0.0.1:${port}`] } }, routes: [{ pool: 'ws' }] })

  const client = connect(Number(new URL(proxy.url).port), '127.0.0.1')
  t.after(() => client.destroy())
  client.write(
    'GET /t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  const sent = randomBytes(16 * 1024 * 1024)
  const received = createHash('sha256')
  let receivedBytes = 0
  let head: Buffer | undefined = Buffer.alloc(0)
  const done = new Promise<void>((resolve, reject) => {
    client.on('error', reject)
    client.on('data', (data: Buffer) => {
      let chunk = data
      if (head !== undefined) {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        assert.match(head.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 101 /)
        chunk = head.subarray(end + 4)
        head = undefined
        writeAll()
      }
      received.update(chunk)
      receivedBytes += chunk.length
      if (receivedBytes === sent.length) resolve()
      // A slow reader: a pause of a millisecond after each chunk.
      client.pause()
      setTimeout(() => client.resume(), 1)
    })
  })
  // Sends the body in 64 KiB writes, waiting for 'drain' when the socket says so.
  function writeAll(from = 0): void {
    while (from < sent.length) {
      const ok = client.write(sent.subarray(from, from + 65536))
      from += 65536
      if (!ok) {
        client.once('drain', () => writeAll(from))
        return
      }
    }
  }
  await done
  assert.equal(received.digest('hex'), createHash('sha256').update(sent).digest('hex'))
})
