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
    timeout: 10_000,
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
