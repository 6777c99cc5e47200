import assert from 'node:assert/strict'
import { once } from 'node:events'
import { Agent, request as httpRequest, type RequestListener } from 'node:http'
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net'
import { describe, type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { rawConnection, request } from '../helpers/http.ts'
import { startPortico, type TestPortico } from '../helpers/portico.ts'

// Settings are short and bounds generous: the machine running the tests may be busy.
const slack = 4000

/** Portico in front of one backend (answering `ok`, or `handler`), with the client `timeouts` given. */
async function clientTimeoutProxy(t: TestContext, timeouts: object, handler?: RequestListener): Promise<TestPortico> {
  const backend = await startBackend(t, 'ok', handler)
  return startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }], timeouts })
}

// Each test waits on timers of its own servers, so they run side by side to keep the file fast.

describe('client and backend timeouts', { concurrency: true }, () => {
  test('a response body that stalls longer than body_idle is aborted, not presented as complete', async (t) => {
    const backend = await startBackend(t, 'stall', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' })
      res.write('first chunk')
    })
    const proxy = await startPortico(t, {
      pools: { web: { servers: [backend.address], timeouts: { body_idle: '300ms' } } },
      routes: [{ pool: 'web' }],
    })
    const started = performance.now()
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(proxy.url, { agent: false }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c))
        res.on('end', () => resolve(`complete: ${body}`))
        res.on('error', () => resolve(`aborted after: ${body}`))
      })
      req.on('error', () => resolve('aborted'))
      req.end()
    })
    assert.equal(outcome, 'aborted after: first chunk')
    assert.ok(performance.now() - started < 300 + slack)
  })

  test('a client that sends half a request head and stalls is closed within request_headers', async (t) => {
    const proxy = await clientTimeoutProxy(t, { request_headers: '500ms' })
    const client = rawConnection(proxy.url)
    const started = performance.now()
    client.socket.write('GET / HTTP/1.1\r\nHost: slow.example\r\nX-Half: ')
    const text = await client.closed
    const elapsed = performance.now() - started
    assert.match(text, /^HTTP\/1\.1 408 [\s\S]*\r\n\r\nRequest Timeout\n$/)
    assert.ok(elapsed >= 400, `closed after ${elapsed} ms, before the setting`)
    assert.ok(elapsed < 500 + slack, `closed after ${elapsed} ms`)
  })

  test('a client that opens a connection and sends nothing gets 408 within request_headers', async (t) => {
    const proxy = await clientTimeoutProxy(t, { request_headers: '500ms' })
    const client = rawConnection(proxy.url)
    const started = performance.now()
    const text = await client.closed
    const elapsed = performance.now() - started
    assert.match(text, /^HTTP\/1\.1 408 /)
    assert.ok(elapsed >= 400, `closed after ${elapsed} ms, before the setting`)
    assert.ok(elapsed < 500 + slack, `closed after ${elapsed} ms`)
  })

  test('a client that trickles its request head byte by byte is still closed within request_headers', async (t) => {
    const proxy = await clientTimeoutProxy(t, { request_headers: '500ms' })
    const { socket, closed } = rawConnection(proxy.url)
    const started = performance.now()
    socket.write('GET / HTTP/1.1\r\nHost: slow.example\r\n')
    // A slowloris client: each byte on its own resets any idle timer, never the head deadline.
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 50)
    t.after(() => clearInterval(trickle))
    const text = await closed
    clearInterval(trickle)
    const elapsed = performance.now() - started
    assert.match(text, /^HTTP\/1\.1 408 /)
    assert.ok(elapsed < 500 + slack, `closed after ${elapsed} ms`)
  })

  test('a client whose request body stalls past timeouts.request gets 408 and the backend request ends', async (t) => {
    let backendSawClose!: () => void
    const closed = new Promise<void>((resolve) => (backendSawClose = resolve))
    const proxy = await clientTimeoutProxy(t, { request_headers: '500ms', request: '1s' }, (req, res) => {
      req.resume()
      res.on('close', backendSawClose)
    })
    const client = rawConnection(proxy.url)
    const started = performance.now()
    client.socket.write('POST /upload HTTP/1.1\r\nHost: up.example\r\nContent-Length: 100\r\n\r\n0123456789')
    const text = await client.closed
    const elapsed = performance.now() - started
    assert.match(text, /^HTTP\/1\.1 408 [\s\S]*\r\n\r\nRequest Timeout\n$/)
    assert.ok(elapsed < 1000 + slack, `closed after ${elapsed} ms`)
    await closed
  })

  test('a client that leaves mid-upload while Portico has stopped reading it frees its backend slot once timeouts.request passes (#21)', async (t) => {
    // The backend reads the upload's head, then nothing more: Portico stops reading the client
    // (backpressure), so the client's close is not seen until timeouts.request. Any other request
    // is answered at once.
    const backend = createNetServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', (head: Buffer) => {
        if (head.toString('latin1').startsWith('POST')) socket.pause()
        else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')
      })
    })
    backend.listen(0, '127.0.0.1')
    await once(backend, 'listening')
    t.after(() => backend.close())
    const address = `127.0.0.1:${(backend.address() as AddressInfo).port}`
    // One slot: a later request waits in the queue until the upload's exchange lets its slot go.
    const proxy = await startPortico(t, {
      pools: {
        web: {
          servers: [{ address, max_conns: 1 }],
          timeouts: { response_headers: '60s' },
          limits: { queue_timeout: '60s' },
        },
      },
      routes: [{ pool: 'web' }],
      timeouts: { request_headers: '500ms', request: '1s' },
    })
    const u = new URL(proxy.url)
    const client = connect(Number(u.port), u.hostname)
    client.on('error', () => {})
    await once(client, 'connect')
    client.write(`POST /upload HTTP/1.1\r\nhost: up.example\r\ncontent-length: ${64 * 1024 * 1024}\r\n\r\n`)
    // Writes until they stall: no event says that the peer stopped reading, so a pause in the
    // drains is taken for it.
    const chunk = Buffer.alloc(256 * 1024)
    for (let stalled = false; !stalled; ) {
      while (client.write(chunk)) {}
      stalled = await Promise.race([
        once(client, 'drain').then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, 300, true)),
      ])
    }
    client.destroy()
    const left = performance.now()
    const after = await request(proxy.url)
    const elapsed = performance.now() - left
    assert.equal(after.body, 'ok')
    assert.ok(elapsed < 1000 + 1000 + slack, `the slot was freed ${elapsed} ms after the client left`)
  })

  test('an idle keep-alive client connection is closed after keepalive_idle', async (t) => {
    const proxy = await clientTimeoutProxy(t, { keepalive_idle: '300ms' })
    const client = rawConnection(proxy.url)
    client.socket.write('GET / HTTP/1.1\r\nHost: idle.example\r\n\r\n')
    const started = performance.now()
    const text = await client.closed
    const elapsed = performance.now() - started
    assert.match(text, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok$/)
    assert.match(text, /keep-alive/i)
    assert.ok(elapsed < 300 + slack, `closed after ${elapsed} ms`)
  })

  test('a client connection is reused for a request that comes within keepalive_idle', async (t) => {
    const proxy = await clientTimeoutProxy(t, { keepalive_idle: '5s' })
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    t.after(() => agent.destroy())
    const reused: boolean[] = []
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(proxy.url, { agent }, (res) => {
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', reject)
        req.end()
        reused.push(req.reusedSocket)
      })
    }
    assert.deepEqual(reused, [false, true, true])
  })
})
