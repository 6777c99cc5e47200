import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createNodeServer } from 'node:http'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { type TestContext, test } from 'node:test'
import { type H1Request, type H1Response, ownServer } from '../../../src/engine/index.ts'

type Handler = (req: H1Request, res: H1Response) => void

/**
 * Portico's own HTTP/1.1 server alone on a port, serving with `handler`; `handedOff` counts the
 * connections it gave to node's server, and `clientErrors` the codes it raised there.
 */
async function ownServerOn(t: TestContext, handler: Handler) {
  const node = createNodeServer()
  const clientErrors: string[] = []
  node.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    clientErrors.push(err.code ?? '')
    socket.destroy()
  })
  const own = ownServer(node, {
    maxHeaderBytes: 16 * 1024,
    client: () => ({ requestHeadersTimeoutMs: 5000, requestTimeoutMs: 5000, keepAliveIdleMs: 5000, drainIdleMs: 1000 }),
    onRequest: handler,
    checkMs: 100,
  })
  let handedOff = 0
  const accept = own.link((socket) => {
    handedOff++
    socket.destroy()
  })
  const listener = createServer(accept)
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  t.after(() => {
    own.stop()
    listener.close()
  })
  return {
    port: (listener.address() as AddressInfo).port,
    handedOff: () => handedOff,
    clientErrors,
  }
}

/** Answers each request with the sha256 of its body, read through the body stream. */
const hashBody: Handler = (req, res) => {
  const hash = createHash('sha256')
  const body = req.body as Readable
  body.on('data', (c: Buffer) => hash.update(c))
  body.on('end', () => res.end(hash.digest('hex')))
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Sends `bytes` on a new connection and resolves with what comes back once `count` answers have. */
async function exchange(port: number, bytes: Buffer | string, count: number): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  socket.write(bytes)
  let text = ''
  for await (const chunk of socket) {
    text += (chunk as Buffer).toString('latin1')
    if ((text.match(/HTTP\/1\.1 /g) ?? []).length === count && /\r\n0\r\n\r\n$/.test(text)) break
  }
  socket.destroy()
  return text
}

/** The chunked bodies of the answers in `text`, in order. */
function answers(text: string): string[] {
  return [...text.matchAll(/\r\n\r\n([0-9a-f]+)\r\n([^\r]*)\r\n0\r\n\r\n/g)].map((m) => m[2]!)
}

const post = (path: string, body: Buffer) =>
  Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: a.example\r\nContent-Length: ${body.length}\r\n\r\n`),
    body,
  ])

test('keep-alive POSTs with bodies of every size are read whole, every byte, without handing the connection to node', async (t) => {
  const server = await ownServerOn(t, hashBody)
  const bodies = [1, 100, 16 * 1024, 64 * 1024 + 1, 1024 * 1024 + 3].map((size, i) => {
    const b = Buffer.alloc(size)
    for (let j = 0; j < size; j++) b[j] = (j * 31 + i) & 0xff
    return b
  })
  const text = await exchange(server.port, Buffer.concat(bodies.map((b, i) => post(`/${i}`, b))), bodies.length)
  assert.deepEqual(answers(text), bodies.map(sha256))
  assert.equal(server.handedOff(), 0)
})

test('a GET pipelined behind a POST in the same write is answered after it, on the own server', async (t) => {
  const server = await ownServerOn(t, (req, res) =>
    req.body ? hashBody(req, res) : res.end(`${req.method} ${req.url}`),
  )
  const body = Buffer.from('hello')
  const text = await exchange(
    server.port,
    `${post('/up', body).toString('latin1')}GET /after HTTP/1.1\r\nHost: a\r\n\r\n`,
    2,
  )
  assert.deepEqual(answers(text), [sha256(body), 'GET /after'])
  assert.equal(server.handedOff(), 0)
})

test('a chunked upload goes to node, with the bytes before it', async (t) => {
  const server = await ownServerOn(t, hashBody)
  const socket = connect(server.port, '127.0.0.1')
  socket.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')
  await once(socket, 'close')
  assert.equal(server.handedOff(), 1)
})

test('a client that leaves mid-body ends the body stream with aborted, and the response with close', async (t) => {
  const events: string[] = []
  let started!: () => void
  const served = new Promise<void>((resolve) => (started = resolve))
  const server = await ownServerOn(t, (req, res) => {
    const body = req.body as Readable
    body.on('data', () => started())
    body.on('aborted', () => events.push('aborted'))
    body.on('end', () => events.push('end'))
    body.on('close', () => events.push('body close'))
    res.on('close', () => events.push('response close'))
  })
  const socket = connect(server.port, '127.0.0.1')
  socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nhalf')
  await served
  socket.destroy()
  while (events.length < 3) await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(events.sort(), ['aborted', 'body close', 'response close'])
})

test('a client that ends its side mid-body is refused as by node (400), and its request aborted', async (t) => {
  const events: string[] = []
  const server = await ownServerOn(t, (req, res) => {
    ;(req.body as Readable).on('aborted', () => events.push('aborted'))
    res.on('close', () => events.push('response close'))
  })
  const socket = connect(server.port, '127.0.0.1')
  socket.end('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nhalf')
  socket.resume()
  await once(socket, 'close')
  assert.deepEqual(server.clientErrors, ['HPE_INVALID_EOF_STATE'])
  assert.deepEqual(events.sort(), ['aborted', 'response close'])
})

test('a body nobody reads stops the connection from reading: the client is held back, then sends the rest', async (t) => {
  const size = 32 * 1024 * 1024
  let held!: (req: H1Request) => void
  const reading = new Promise<H1Request>((resolve) => (held = resolve))
  const server = await ownServerOn(t, (req, res) => {
    held(req)
    // Read only once the test says so.
    ;(req.body as Readable).pause()
    res.on('close', () => {})
  })
  const socket = connect(server.port, '127.0.0.1')
  const body = Buffer.alloc(size, 'z')
  const sent = new Promise<void>((resolve) => socket.write(post('/', body), () => resolve()))
  const req = await reading
  // Writes stall once both sides' buffers are full: no event says so, so a pause in the progress is taken for it.
  let read = -1
  while (req.socket.bytesRead !== read) {
    read = req.socket.bytesRead
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  assert.ok(read < size / 2, `the server read ${read} of ${size} bytes of a body nobody reads`)
  const hash = createHash('sha256')
  const stream = req.body as Readable
  stream.on('data', (c: Buffer) => hash.update(c))
  stream.resume()
  await once(stream, 'end')
  await sent
  socket.destroy()
  assert.equal(hash.digest('hex'), sha256(body))
})

test('a body still coming when its response is done is read to its end and dropped, and the next request is served', async (t) => {
  const server = await ownServerOn(t, (req, res) => res.end(`${req.method} ${req.url}`))
  const socket = connect(server.port, '127.0.0.1')
  // A body that looks like requests: none of it may be served as one.
  const smuggled = Buffer.from('GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(3000))
  const whole = Buffer.concat([post('/early', smuggled), Buffer.from('GET /next HTTP/1.1\r\nHost: a\r\n\r\n')])
  // The head and a first part, then the rest once the answer came.
  socket.write(whole.subarray(0, 1000))
  let text = ''
  let rest = true
  for await (const chunk of socket) {
    text += (chunk as Buffer).toString('latin1')
    if (answers(text).length === 1 && rest) {
      rest = false
      socket.write(whole.subarray(1000))
    }
    if (answers(text).length === 2) break
  }
  socket.destroy()
  assert.deepEqual(answers(text), ['POST /early', 'GET /next'])
  assert.equal(server.handedOff(), 0)
})
