import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { describe, type TestContext, test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { startBackend } from '../helpers/backend.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get, type Reply } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'

/**
 * A listening address whose accept queue is full, so that new connections never complete: a
 * worker listens with a backlog of 1 and blocks before accepting, and two connections fill the
 * queue (Linux queues backlog + 1). Works offline, unlike an unroutable address.
 */
async function fullBacklog(t: TestContext): Promise<string> {
  const gate = new Int32Array(new SharedArrayBuffer(4))
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     const server = require('node:net').createServer()
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port)
       Atomics.wait(workerData, 0, 0)
     })`,
    { eval: true, workerData: gate },
  )
  const [port] = (await once(worker, 'message')) as [number]
  const fillers = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')]
  for (const s of fillers) s.on('error', () => {})
  await Promise.all(fillers.map((s) => once(s, 'connect')))
  t.after(async () => {
    Atomics.store(gate, 0, 1)
    Atomics.notify(gate, 0)
    for (const s of fillers) s.destroy()
    await worker.terminate()
  })
  return `127.0.0.1:${port}`
}

async function proxyTo(t: TestContext, server: string, pool: object = {}) {
  return startPortico(t, {
    pools: { web: { servers: [server], ...pool } },
    routes: [{ pool: 'web' }],
  })
}

/** Failure answers are short and plain, and give nothing of the backend away. */
function assertPlainFailure(reply: Reply, status: number, text: string, server: string): void {
  assert.equal(reply.status, status)
  assert.equal(reply.body, `${text}\n`)
  assert.match(String(reply.headers['content-type']), /^text\/plain/)
  assert.ok(!reply.body.includes(server.split(':')[1]!), 'body names the backend port')
  assert.ok(!/Error|at |127\.0\.0\.1/.test(reply.body), 'body shows an error or an address')
  assert.match(String(reply.headers['x-request-id']), /\S/)
}

/** Runs curl and resolves with its exit code and what it printed. */
function curl(args: string[]): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, body: stdout })
    })
  })
}

// Timeout cases wait on timers of their own servers, so the cases run side by side. undici's
// connect and header timers tick about once a second, so each timed-out attempt takes about a
// second whatever the setting: those cases allow two attempts, not the default three.
describe('failure statuses', { concurrency: true }, () => {
  test('a backend that refuses the connection gives 502', async (t) => {
    const server = await closedPort()
    const proxy = await proxyTo(t, server)
    assertPlainFailure(await get(proxy.url), 502, 'Bad Gateway', server)
  })

  test('a backend that resets the connection before answering gives 502', async (t) => {
    const backend = await startBackend(t, 'reset', (req) => req.socket.destroy())
    const proxy = await proxyTo(t, backend.address)
    assertPlainFailure(await get(proxy.url), 502, 'Bad Gateway', backend.address)
  })

  test('a backend that sends no response head in time gives 504', async (t) => {
    // A server that accepts connections and never says a word.
    const { address: server } = await startRawBackend(t, () => {})
    const proxy = await proxyTo(t, server, { timeouts: { response_headers: '200ms' }, retries: { attempts: 2 } })
    const started = performance.now()
    assertPlainFailure(await get(proxy.url), 504, 'Gateway Timeout', server)
    // One retry on the same server is allowed for an idempotent request: at most two timeouts.
    assert.ok(performance.now() - started < 5000)
  })

  test('a backend that cannot be connected to in time gives 504', async (t) => {
    const server = await fullBacklog(t)
    const proxy = await proxyTo(t, server, { timeouts: { connect: '200ms' }, retries: { attempts: 2 } })
    assertPlainFailure(await get(proxy.url), 504, 'Gateway Timeout', server)
  })

  test('a pool with no usable server gives 503', async (t) => {
    const backend = await startBackend(t, 'idle')
    const proxy = await startPortico(t, {
      pools: { web: { servers: [{ address: backend.address, weight: 0 }] } },
      routes: [{ pool: 'web' }],
    })
    assertPlainFailure(await get(proxy.url), 503, 'Service Unavailable', backend.address)
  })

  test('a backend that dies mid-body with Content-Length makes the client see an aborted response', async (t) => {
    const backend = await startBackend(t, 'dies', (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' })
      res.write('x'.repeat(1000), () => res.socket?.destroy())
    })
    const proxy = await proxyTo(t, backend.address)
    const { code, body } = await curl([proxy.url])
    // 18: transfer closed with outstanding read data remaining.
    assert.equal(code, 18)
    assert.ok(body.length < 100000)
  })

  test('a backend that dies mid-body while chunking makes the client see an aborted response', async (t) => {
    const backend = await startBackend(t, 'dies', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('x'.repeat(1000), () => res.socket?.destroy())
    })
    const proxy = await proxyTo(t, backend.address)
    const { code } = await curl([proxy.url])
    assert.equal(code, 18)
  })

  test('a chunked response cut by its backend never ends with the last chunk', async (t) => {
    const backend = await startBackend(t, 'dies', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('partial', () => res.socket?.destroy())
    })
    const proxy = await proxyTo(t, backend.address)
    const { port } = new URL(proxy.url)
    const socket = connect(Number(port), '127.0.0.1')
    socket.write('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {})
    await once(socket, 'close')
    const text = Buffer.concat(chunks).toString('latin1')
    assert.match(text, /^HTTP\/1\.1 200/)
    assert.match(text, /partial/)
    assert.ok(!text.endsWith('0\r\n\r\n'), 'the response looks complete')
  })
})
