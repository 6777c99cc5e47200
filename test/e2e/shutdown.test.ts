import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { describe, type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { type SpawnedPortico, spawnPortico, writeConfig } from '../helpers/spawn.ts'

/** A backend that holds every request until the test answers it. */
async function heldBackend(t: TestContext) {
  const arrived = new EventEmitter<{ request: [ServerResponse] }>()
  const { address } = await startBackend(t, 'slow', (_req, res) => arrived.emit('request', res))
  return { address, arrived }
}

async function runPortico(t: TestContext, server: string, grace: string): Promise<SpawnedPortico> {
  const file = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [server] } },
    routes: [{ pool: 'web' }],
    access_log: { output: 'off' },
    shutdown_grace: grace,
    // Longer than a test may take: a connection must close because of the shutdown, not by idling.
    timeouts: { keepalive_idle: '5m' },
  })
  return spawnPortico(t, ['run', '-c', file], { listeners: 1 })
}

/** Opens a connection and resolves once it is connected, or with the connect error's code. */
function tryConnect(url: string): Promise<Socket | string> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket))
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

describe('shutdown on a signal', { concurrency: true }, () => {
  test('SIGTERM finishes a slow request in flight, refuses new connections, closes idle ones and exits 0', async (t) => {
    const backend = await heldBackend(t)
    const portico = await runPortico(t, backend.address, '30s')
    const url = portico.urls[0]!

    // An idle keep-alive connection: one request answered, connection left open.
    const idle = (await tryConnect(url)) as Socket
    const idleClosed = once(idle, 'close')
    idle.write('GET /idle HTTP/1.1\r\nhost: x\r\n\r\n')
    const idleRequest = await once(backend.arrived, 'request')
    ;(idleRequest[0] as ServerResponse).end('done')
    await once(idle, 'data')

    // A keep-alive client in the middle of a slow request.
    const busy = (await tryConnect(url)) as Socket
    const busyClosed = once(busy, 'close')
    let slowReply = ''
    busy.on('data', (chunk: Buffer) => (slowReply += chunk.toString()))
    busy.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n')
    const [held] = (await once(backend.arrived, 'request')) as [ServerResponse]

    portico.child.kill('SIGTERM')
    await portico.waitFor(/draining/)
    assert.equal(await tryConnect(url), 'ECONNREFUSED')
    await idleClosed

    held.end('slow but complete')
    // Portico closes the connection once its last response is out, rather than keep it alive.
    await busyClosed
    assert.match(slowReply, /^HTTP\/1\.1 200 OK\r\n/)
    assert.match(slowReply, /\r\nconnection: close\r\n/i)
    assert.match(slowReply, /\r\n\r\nslow but complete$/)
    assert.equal(await portico.exited, 0)
  })

  // Well within the 30 s grace period, after which every connection would be cut anyway.
  test('SIGTERM during a response already under way lets it finish, then closes its keep-alive connection', {
    timeout: 30_000,
  }, async (t) => {
    const backend = await heldBackend(t)
    const portico = await runPortico(t, backend.address, '30s')
    const busy = (await tryConnect(portico.urls[0]!)) as Socket
    const busyClosed = once(busy, 'close')
    let reply = ''
    busy.on('data', (chunk: Buffer) => (reply += chunk.toString()))
    busy.write('GET /stream HTTP/1.1\r\nhost: x\r\n\r\n')
    const [held] = (await once(backend.arrived, 'request')) as [ServerResponse]
    held.writeHead(200, { 'content-length': '10' })
    held.write('first')
    await once(busy, 'data')
    assert.match(reply, /\r\nconnection: keep-alive\r\n/i)

    portico.child.kill('SIGTERM')
    await portico.waitFor(/draining/)
    held.end('-last')
    // Its head said keep-alive; Portico still closes the connection once the response is out.
    await busyClosed
    assert.match(reply, /\r\n\r\nfirst-last$/)
    assert.equal(await portico.exited, 0)
  })

  test('SIGTERM during a slow upload lets its body arrive and its response complete (#21)', {
    timeout: 30_000,
  }, async (t) => {
    const bodyStarted = new EventEmitter<{ started: [] }>()
    const backend = await startBackend(t, 'echo', (req, res) => {
      bodyStarted.emit('started')
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => res.end(`got ${body}`))
    })
    const portico = await runPortico(t, backend.address, '30s')
    const upload = (await tryConnect(portico.urls[0]!)) as Socket
    const errors: string[] = []
    upload.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))
    let reply = ''
    upload.on('data', (chunk: Buffer) => (reply += chunk.toString()))
    const started = once(bodyStarted, 'started')
    upload.write('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n01234')
    await started

    portico.child.kill('SIGTERM')
    await portico.waitFor(/draining/)
    upload.write('56789')
    await once(upload, 'close')
    assert.deepEqual(errors, [])
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/)
    assert.match(reply, /\r\n\r\ngot 0123456789$/)
    assert.equal(await portico.exited, 0)
  })

  test('a second signal exits at once, without waiting for requests in flight', async (t) => {
    const backend = await heldBackend(t)
    const portico = await runPortico(t, backend.address, '30s')
    const slowReply = get(`${portico.urls[0]}/slow`).catch((err: NodeJS.ErrnoException) => err.code)
    await once(backend.arrived, 'request')

    portico.child.kill('SIGINT')
    await portico.waitFor(/draining/)
    portico.child.kill('SIGTERM')
    assert.equal(await portico.exited, 1)
    assert.equal(await slowReply, 'ECONNRESET')
  })

  test('requests still running when shutdown_grace ends are cut, and the process exits 0', async (t) => {
    const backend = await heldBackend(t)
    const portico = await runPortico(t, backend.address, '200ms')
    const slowReply = get(`${portico.urls[0]}/slow`).catch((err: NodeJS.ErrnoException) => err.code)
    await once(backend.arrived, 'request')

    portico.child.kill('SIGTERM')
    assert.equal(await portico.exited, 0)
    assert.equal(await slowReply, 'ECONNRESET')
  })
})

/** What one keep-alive client saw over its connection: answers, and how the connection ended. */
interface Run {
  answered: number
  /** The connection was reset (ECONNRESET, EPIPE): a request or a response may be lost unseen. */
  reset: boolean
  /** Bytes of a response came, then the connection closed before its end. */
  partial: boolean
  /** Portico closed with a FIN while a request written on the idle connection had no answer yet. */
  unanswered: boolean
  /** The last response said `Connection: close`. */
  toldToClose: boolean
}

const getRequest = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n'
// A request with a body, which Portico's own HTTP/1.1 server hands to node's.
const postRequest = 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello'

/**
 * A keep-alive client that sends the next `request` the moment the previous response ends, on one
 * raw connection, until Portico closes it. `onAnswer` runs after each complete response.
 */
function keepAliveClient(url: string, onAnswer: () => void, request = getRequest): Promise<Run> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  const run: Run = { answered: 0, reset: false, partial: false, unanswered: false, toldToClose: false }
  let buffer = ''
  const send = () => socket.write(request)
  socket.once('connect', send)
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1')
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0)
      if (buffer.length < end + 4 + length) return
      run.toldToClose = /\r\nconnection: *close\r\n/i.test(buffer.slice(0, end + 2))
      buffer = buffer.slice(end + 4 + length)
      run.answered++
      onAnswer()
      if (!run.toldToClose) send()
    }
  })
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') run.reset = true
  })
  return new Promise((resolve) => socket.once('close', resolve)).then(() => {
    if (buffer.length > 0) run.partial = true
    else if (!run.toldToClose && !run.reset) run.unanswered = true
    return run
  })
}

for (const [kind, request] of [
  ['requests', getRequest],
  ['uploads', postRequest],
] as const) {
  test(`SIGTERM under keep-alive load of ${kind} with 2 workers loses no request: every connection ends after a whole response that says Connection: close (#21)`, {
    timeout: 60_000,
  }, async (t) => {
    const backend = await startBackend(t, 'ok', (req, res) => {
      req.resume()
      req.on('end', () => res.end('ok'))
    })
    const file = writeConfig({
      listeners: [{ address: '127.0.0.1:0' }],
      pools: { web: { servers: [backend.address] } },
      routes: [{ pool: 'web' }],
      access_log: { output: 'off' },
      workers: 2,
      shutdown_grace: '30s',
      timeouts: { keepalive_idle: '5m' },
    })
    const portico = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
    await portico.waitFor(/"workers started"/)
    let answers = 0
    let signalled = false
    const loaded = Promise.withResolvers<void>()
    const runs = await Promise.all(
      Array.from({ length: 40 }, () =>
        keepAliveClient(
          portico.urls[0]!,
          () => {
            if (++answers >= 2000 && !signalled) {
              signalled = true
              loaded.resolve()
            }
          },
          request,
        ),
      ).concat(
        loaded.promise.then(() => {
          portico.child.kill('SIGTERM')
          return undefined as unknown as Run
        }),
      ),
    )
    const clients = runs.slice(0, 40)
    assert.equal(await portico.exited, 0)
    // A client that keeps its connection busy is never closed between two of its requests: each of its
    // requests gets a whole response, the last one with Connection: close. (A connection idle for
    // `drain_idle` gets a FIN instead; a request its client writes in that instant gets none.)
    assert.deepEqual(
      clients.filter((r) => r.reset || r.partial || r.unanswered || !r.toldToClose),
      [],
    )
  })
}

test('SIGTERM closes an idle keep-alive connection with a FIN, not a reset (#21)', { timeout: 60_000 }, async (t) => {
  const backend = await heldBackend(t)
  const portico = await runPortico(t, backend.address, '30s')
  const idle = (await tryConnect(portico.urls[0]!)) as Socket
  const errors: string[] = []
  idle.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))
  idle.write('GET /idle HTTP/1.1\r\nhost: x\r\n\r\n')
  const [res] = (await once(backend.arrived, 'request')) as [ServerResponse]
  res.end('done')
  await once(idle, 'data')
  const ended = once(idle, 'end')
  portico.child.kill('SIGTERM')
  await ended
  idle.end()
  await once(idle, 'close')
  assert.deepEqual(errors, [])
  assert.equal(await portico.exited, 0)
})
