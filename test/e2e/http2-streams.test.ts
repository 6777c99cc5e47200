import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { startPortico } from '../helpers/portico.ts'

// HTTP/2 clients are served through node's stream API (engine/h2/): these check what a client of
// that path sees of heads, trailers, resets, expectations and long bodies.

async function h2Session(url: string): Promise<ClientHttp2Session> {
  const session = connect(url)
  session.on('error', () => {})
  await once(session, 'remoteSettings')
  return session
}

interface Answer {
  readonly head: Record<string, unknown>
  readonly body: Buffer
  readonly trailers: Record<string, unknown> | undefined
}

/** Reads a stream's whole answer: head, body and trailers. */
async function answer(stream: ClientHttp2Stream): Promise<Answer> {
  let trailers: Record<string, unknown> | undefined
  stream.on('trailers', (t) => {
    trailers = { ...t }
  })
  const [head] = (await once(stream, 'response')) as [Record<string, unknown>]
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return { head: { ...head }, body: Buffer.concat(chunks), trailers }
}

/** Portico on a plain listener with h2c in front of `backend`, and an HTTP/2 session to it. */
async function h2Proxy(t: import('node:test').TestContext, backend: string, log?: string) {
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend] } },
    routes: [{ pool: 'web' }],
    ...(log ? { access_log: { output: log, format: 'json' } } : {}),
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  return { proxy, session }
}

test("an HTTP/1.1 backend's trailers after a chunked body reach an HTTP/2 client, and a sized body ends without any", async (t) => {
  const backend = await startBackend(t, 'web', (req, res) => {
    if (req.url === '/sized') {
      res.writeHead(200, { 'content-length': '5', 'x-kind': 'sized' })
      res.end('sized')
      return
    }
    res.writeHead(200, { trailer: 'x-checksum', 'x-kind': 'chunked' })
    res.write('part one, ')
    res.addTrailers({ 'x-checksum': 'abc123' })
    res.end('part two')
  })
  const { session } = await h2Proxy(t, backend.address)
  const chunked = await answer(session.request({ ':path': '/chunked' }))
  assert.equal(chunked.head[':status'], 200)
  assert.equal(chunked.head['x-kind'], 'chunked')
  assert.equal(chunked.body.toString(), 'part one, part two')
  assert.equal(chunked.trailers?.['x-checksum'], 'abc123')
  const sized = await answer(session.request({ ':path': '/sized' }))
  assert.equal(sized.body.toString(), 'sized')
  assert.equal(sized.trailers, undefined)
})

test('an HTTP/2 client that resets its stream mid-response stops the backend, is logged client_aborted, and its connection serves on', async (t) => {
  const backendGone = Promise.withResolvers<void>()
  const backend = await startBackend(t, 'web', (req, res) => {
    if (req.url === '/next') {
      res.end('next')
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    // Writes until the client's reset reaches the backend as a closed connection.
    const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024, 1)), 5)
    res.on('close', () => {
      clearInterval(timer)
      backendGone.resolve()
    })
  })
  const log = accessLogFile(t)
  const { proxy, session } = await h2Proxy(t, backend.address, log)
  const stream = session.request({ ':path': '/endless' })
  stream.on('error', () => {})
  await once(stream, 'response')
  let read = 0
  for await (const chunk of stream) {
    read += (chunk as Buffer).length
    if (read >= 64 * 1024) break
  }
  // Leaving the loop destroyed the stream: node's client sends RST_STREAM CANCEL.
  await backendGone.promise
  const next = await answer(session.request({ ':path': '/next' }))
  assert.equal(next.body.toString(), 'next')
  const cut = (await readLogRecords(proxy, log)).find((l) => l.path === '/endless')
  assert.equal(cut?.outcome, 'client_aborted')
})

test('a 5 MiB body read slowly over HTTP/2 arrives whole and in order', async (t) => {
  const body = Buffer.alloc(5 * 1024 * 1024)
  for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i)
  const backend = await startBackend(t, 'web', (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) })
    res.end(body)
  })
  const { session } = await h2Proxy(t, backend.address)
  const stream = session.request({ ':path': '/big' })
  const hash = createHash('sha256')
  let size = 0
  let pauseAt = body.length / 4
  for await (const chunk of stream) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size >= pauseAt) {
      pauseAt += body.length / 4
      // The reader stops for a moment (the behaviour under test), so that flow control holds Portico back.
      await delay(100)
    }
  }
  assert.equal(size, body.length)
  assert.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'))
})

test('over HTTP/2, Expect: 100-continue gets its 100 before the body is sent, and any other expectation 417', async (t) => {
  const backend = await startBackend(t, 'web', async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    res.end(`got ${Buffer.concat(chunks).toString()}`)
  })
  const { session } = await h2Proxy(t, backend.address)
  const stream = session.request({ ':method': 'POST', ':path': '/up', expect: '100-continue' })
  await once(stream, 'continue')
  stream.end('the body')
  const answered = await answer(stream)
  assert.equal(answered.body.toString(), 'got the body')

  const odd = session.request({ ':method': 'POST', ':path': '/up', expect: 'something-else' })
  odd.end()
  assert.equal((await answer(odd)).head[':status'], 417)
})

test('over HTTP/2, HEAD and 204 answers carry no body, CONNECT is refused with 405, and the connection serves on', async (t) => {
  const backend = await startBackend(t, 'web', (req, res) => {
    if (req.url === '/empty') {
      res.writeHead(204, { 'x-kind': 'empty' })
      res.end()
      return
    }
    res.writeHead(200, { 'content-length': '4', 'x-kind': 'head' })
    res.end(req.method === 'HEAD' ? undefined : 'body')
  })
  const { session } = await h2Proxy(t, backend.address)
  const head = await answer(session.request({ ':method': 'HEAD', ':path': '/' }))
  assert.equal(head.head[':status'], 200)
  assert.equal(head.head['content-length'], '4')
  assert.equal(head.body.length, 0)
  const empty = await answer(session.request({ ':path': '/empty' }))
  assert.equal(empty.head[':status'], 204)
  assert.equal(empty.head['x-kind'], 'empty')
  assert.equal(empty.body.length, 0)
  const tunnel = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' })
  tunnel.on('error', () => {})
  const [refused] = (await once(tunnel, 'response')) as [Record<string, unknown>]
  assert.equal(refused[':status'], 405)
  tunnel.destroy()
  const after = await answer(session.request({ ':path': '/' }))
  assert.equal(after.body.toString(), 'body')
})

test('an HTTP/2 upload that Portico refuses by its declared size is answered 413, and the connection serves on', async (t) => {
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', max_body_bytes: '1KiB' }],
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  const upload = session.request({ ':method': 'POST', ':path': '/up', 'content-length': '4096' })
  upload.on('error', () => {})
  upload.write(Buffer.alloc(4096))
  const [head] = (await once(upload, 'response')) as [Record<string, unknown>]
  assert.equal(head[':status'], 413)
  upload.destroy()
  assert.equal((await answer(session.request({ ':path': '/' }))).body.toString(), 'web')
})

test('a static file and a gzip-compressed answer over HTTP/2 arrive whole', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'portico-h2-static-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const file = Buffer.alloc(300 * 1024)
  for (let i = 0; i < file.length; i++) file[i] = (i * 7) % 251
  writeFileSync(join(root, 'data.bin'), file)
  const text = 'compressible text '.repeat(4000)
  const backend = await startBackend(t, 'web', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(text)
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [
      { match: { path: '/files' }, rewrite: { strip_prefix: '/files' }, static: { root } },
      { pool: 'web', compression: { codings: ['gzip'] } },
    ],
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  const served = await answer(session.request({ ':path': '/files/data.bin' }))
  assert.equal(served.head[':status'], 200)
  assert.ok(served.body.equals(file))
  const zipped = await answer(session.request({ ':path': '/text', 'accept-encoding': 'gzip' }))
  assert.equal(zipped.head['content-encoding'], 'gzip')
  assert.equal((await import('node:zlib')).gunzipSync(zipped.body).toString(), text)
})
