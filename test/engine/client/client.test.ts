import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import test, { type TestContext } from 'node:test'
import type { Call, DispatchOptions, HeaderRecord } from '../../../src/engine/client/call.ts'
import { H1Client } from '../../../src/engine/client/client.ts'
import { ProxyError } from '../../../src/errors.ts'
import { startRawBackend } from '../../helpers/raw-backend.ts'

interface Outcome {
  status: number
  informational: number[]
  body: string
  trailers: string[] | undefined
  reused: boolean
  written: boolean
  error: Error | undefined
}

/** Sends one request through `client` and resolves with everything its handler heard. */
function send(client: H1Client, opts: Partial<DispatchOptions> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = {
      status: 0,
      informational: [],
      body: '',
      trailers: undefined,
      reused: false,
      written: false,
      error: undefined,
    }
    client.dispatch(
      { path: '/', method: 'GET', headers: ['Host', 'b.example'], body: null, ...opts },
      {
        onRequestStart(call: Call) {
          out.reused = call.reused
        },
        onResponseStart(_call: Call, status: number, _headers: HeaderRecord) {
          if (status < 200) out.informational.push(status)
          else out.status = status
        },
        onResponseData(_call: Call, chunk: Buffer) {
          out.body += chunk.toString('latin1')
        },
        onResponseEnd(call: Call) {
          out.trailers = call.rawTrailers
          resolve(out)
        },
        onResponseError(call: Call, err: Error) {
          out.written = call.written
          out.error = err
          resolve(out)
        },
      },
    )
  })
}

async function clientFor(t: TestContext, onRequest: (socket: Socket, head: string, index: number) => void) {
  const backend = await startRawBackend(t, onRequest)
  const [host, port] = backend.address.split(':')
  const client = new H1Client(
    {
      host: host!,
      port: Number(port),
      tls: undefined,
      connectTimeoutMs: 1000,
      keepAliveIdleMs: 4000,
      maxHeaderSize: 16 * 1024,
    },
    1,
  )
  t.after(() => client.destroy())
  return { backend, client }
}

test('requests beyond the connection limit wait for the connection and are answered in order', async (t) => {
  const heads: string[] = []
  const { backend, client } = await clientFor(t, (socket, head) => {
    heads.push(head.split('\r\n')[0]!)
    socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${head.length}\r\n\r\n${head}`)
  })
  const replies = await Promise.all(['/1', '/2', '/3'].map((path) => send(client, { path })))
  assert.deepEqual(
    replies.map((r) => [r.status, r.body.split('\r\n')[0], r.reused]),
    [
      [200, 'GET /1 HTTP/1.1', false],
      [200, 'GET /2 HTTP/1.1', true],
      [200, 'GET /3 HTTP/1.1', true],
    ],
  )
  assert.deepEqual(heads, ['GET /1 HTTP/1.1', 'GET /2 HTTP/1.1', 'GET /3 HTTP/1.1'])
  assert.equal(backend.connections(), 1)
})

test('a body of known length split over many packets arrives whole, and the connection is reused', async (t) => {
  const body = 'x'.repeat(100_000)
  const { backend, client } = await clientFor(t, (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
    for (let at = 10; at < body.length; at += 30_000) setImmediate(() => socket.write(body.slice(at, at + 30_000)))
  })
  const first = await send(client)
  assert.equal(first.body, body)
  const second = await send(client)
  assert.equal(second.body, body)
  assert.equal(second.reused, true)
  assert.equal(backend.connections(), 1)
})

test('a chunked response keeps its trailers, and an early hint comes before the answer', async (t) => {
  const { client } = await clientFor(t, (socket) => {
    socket.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n')
    socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n')
    socket.write('3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n')
  })
  const reply = await send(client)
  assert.deepEqual(reply.informational, [103])
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'abc')
  assert.deepEqual(reply.trailers, ['x-sum', '42'])
})

test('a body that ends before its Content-Length is an error, never a complete response', async (t) => {
  const { client } = await clientFor(t, (socket) => {
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')
  })
  const reply = await send(client)
  assert.equal(reply.status, 200)
  assert.ok(reply.error instanceof ProxyError)
  assert.equal(reply.error.code, 'backend_reset')
})

test('a header value carrying a line break is refused before a byte is written', async (t) => {
  let requests = 0
  const { client } = await clientFor(t, (socket) => {
    requests++
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')
  })
  const reply = await send(client, { headers: ['Host', 'b.example', 'X-Evil', 'a\r\nGET /smuggled HTTP/1.1'] })
  assert.ok(reply.error instanceof ProxyError)
  assert.equal(reply.error.code, 'backend_error')
  assert.equal((await send(client)).status, 200)
  assert.equal(requests, 1)
})

test('a streamed body of unknown length is sent chunked', async (t) => {
  let received = ''
  let body = ''
  const { client } = await clientFor(t, (socket, head, index) => {
    // The chunked body ends with an empty line, as a head does: this backend sees it as a second one.
    if (index === 0) received = head
    else {
      body = head
      socket.write('HTTP/1.1 204 No Content\r\n\r\n')
    }
  })
  const reply = await send(client, {
    method: 'POST',
    body: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
  })
  assert.equal(reply.status, 204)
  assert.match(received, /transfer-encoding: chunked$/m)
  assert.equal(body, '6\r\nhello \r\n5\r\nworld\r\n0')
})

test('a request on a connection closed before its turn ended was never written; one closed after was (#21)', async (t) => {
  const answerFirst = (socket: Socket, _head: string, index: number) => {
    if (index === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
  }
  const before = (await clientFor(t, answerFirst)).client
  assert.equal((await send(before)).status, 200)
  const unsent = send(before, { method: 'POST' })
  void before.destroy()
  assert.deepEqual(await unsent.then((r) => [r.reused, r.written, r.error?.message]), [true, false, 'backend_reset'])

  const after = (await clientFor(t, answerFirst)).client
  assert.equal((await send(after)).status, 200)
  const sent = send(after, { method: 'POST' })
  await new Promise(setImmediate)
  void after.destroy()
  assert.deepEqual(await sent.then((r) => [r.reused, r.written]), [true, true])
})
