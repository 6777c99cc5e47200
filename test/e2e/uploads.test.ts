import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { type TestContext, test } from 'node:test'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { rawConnection } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A backend answering each request with its method, path and the sha256 of its body; `pace` runs for each body chunk it reads. */
async function hashingProxy(t: TestContext, config: object = {}, pace?: (req: IncomingMessage) => void) {
  const backend = await startBackend(t, 'hash', (req, res) => {
    const hash = createHash('sha256')
    req.on('data', (c: Buffer) => {
      hash.update(c)
      pace?.(req)
    })
    req.on('end', () => res.end(`${req.method} ${req.url} ${hash.digest('hex')}`))
  })
  return startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }], ...config })
}

/** The bodies of the answers in `text` (each with a Content-Length), in order. */
function bodies(text: string): string[] {
  return [...text.matchAll(/content-length: (\d+)\r\n(?:.*\r\n)*?\r\n/gi)].map((m) =>
    text.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1])),
  )
}

/** Sends `bytes` on one connection and resolves with the answers once `count` have come whole. */
async function answersTo(url: string, bytes: Buffer, count: number): Promise<string[]> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.write(bytes)
  let text = ''
  for await (const chunk of socket) {
    text += (chunk as Buffer).toString('latin1')
    const got = bodies(text)
    if (got.length === count && got.every((b) => / [0-9a-f]{64}$/.test(b))) break
  }
  socket.destroy()
  return bodies(text)
}

const post = (path: string, body: Buffer) =>
  Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: up.example\r\nContent-Length: ${body.length}\r\n\r\n`),
    body,
  ])

const patterned = (size: number, seed: number) => {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 7 + seed) & 0xff
  return b
}

test('keep-alive POSTs of 16 KiB, pipelined on one connection with a GET behind them, reach the backend byte for byte', async (t) => {
  const proxy = await hashingProxy(t)
  const uploads = [0, 1, 2, 3, 4].map((i) => patterned(16 * 1024, i))
  const get = Buffer.from('GET /after HTTP/1.1\r\nHost: up.example\r\n\r\n')
  const text = await answersTo(proxy.url, Buffer.concat([...uploads.map((b, i) => post(`/${i}`, b)), get]), 6)
  assert.deepEqual(text, [...uploads.map((b, i) => `POST /${i} ${sha256(b)}`), `GET /after ${sha256(Buffer.alloc(0))}`])
})

test('a slow backend holds a large upload back, and the upload still reaches it whole', async (t) => {
  // The backend reads a chunk, then waits a moment: Portico must hold the client back, not the body in memory.
  const proxy = await hashingProxy(t, {}, (req) => {
    req.pause()
    setTimeout(() => req.resume(), 1)
  })
  const upload = patterned(8 * 1024 * 1024 + 5, 9)
  const [answer] = await answersTo(proxy.url, post('/big', upload), 1)
  assert.equal(answer, `POST /big ${sha256(upload)}`)
})

test('a client that leaves mid-upload aborts the backend request and is logged as client_aborted', async (t) => {
  const log = accessLogFile(t)
  let backendRequest!: (req: IncomingMessage, res: ServerResponse) => void
  const reached = new Promise<[IncomingMessage, ServerResponse]>((resolve) => (backendRequest = (...a) => resolve(a)))
  const backend = await startBackend(t, 'slow', (req, res) => backendRequest(req, res))
  const proxy = await startPortico(t, {
    access_log: { output: log, format: 'json' },
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const client = rawConnection(proxy.url)
  client.socket.write(post('/half', Buffer.alloc(1000)).subarray(0, 600))
  const [req] = await reached
  await once(req, 'data')
  // The backend's request errors as it is aborted; its close is what this test waits for.
  req.on('error', () => {})
  const closed = new Promise((resolve) => req.once('close', resolve))
  // A reset: a client whose FIN came mid-body would get 400 first (see below).
  client.socket.resetAndDestroy()
  await closed
  assert.equal(req.complete, false)
  const records = await readLogRecords(proxy, log)
  assert.deepEqual(
    records.map((r) => [r.path, r.outcome]),
    [['/half', 'client_aborted']],
  )
})

test('a client that ends its side mid-upload gets 400, as a request cut short', async (t) => {
  const proxy = await hashingProxy(t)
  const client = rawConnection(proxy.url)
  client.socket.end(post('/half', Buffer.alloc(1000)).subarray(0, 600))
  assert.match(await client.closed, /^HTTP\/1\.1 400 /)
})
