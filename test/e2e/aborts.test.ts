import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

/** Resolves with the next request the backend gets, its response, and a promise of its close. */
function nextRequest(server: import('node:http').Server) {
  return new Promise<{ req: IncomingMessage; res: ServerResponse; closed: Promise<boolean> }>((resolve) => {
    server.prependOnceListener('request', (req: IncomingMessage, res: ServerResponse) => {
      // Whether the response was cut before it finished, i.e. the backend saw its request go away.
      const closed = once(res, 'close').then(() => !res.writableFinished)
      resolve({ req, res, closed })
    })
  })
}

test('clients that disconnect mid-response abort their backend requests and free everything', {
  timeout: 10_000,
}, async (t) => {
  const backend = await startBackend(t, 'b', (req, res) => {
    if (req.url !== '/stream') return void res.end('ok')
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.write(Buffer.alloc(16 * 1024))
  })
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  for (let i = 0; i < 20; i++) {
    const seen = nextRequest(backend.server)
    const client = httpRequest(`${proxy.url}/stream`, { agent: false })
    client.on('error', () => {})
    client.end()
    const [res] = (await once(client, 'response')) as [IncomingMessage]
    res.on('error', () => {})
    await once(res, 'data')
    client.destroy()
    assert.equal(await (await seen).closed, true)
  }
  assert.equal((await get(proxy.url)).status, 200)
  // Checked after a later exchange, so the pool has also seen the aborted connections close.
  const server = proxy.plan().pools.get('b')!.servers[0]!
  assert.equal(server.state.inFlight, 0)
  const { running, pending, queued } = server.state.dispatcher.stats
  assert.deepEqual({ running, pending, queued }, { running: 0, pending: 0, queued: 0 })
})

test('a client that disconnects mid-upload aborts the backend request and frees its slot', {
  timeout: 10_000,
}, async (t) => {
  const backend = await startBackend(t, 'b', (req, res) => {
    req.on('error', () => {})
    req.resume()
    req.on('end', () => res.end('ok'))
  })
  const proxy = await startPortico(t, { pools: { b: { servers: [backend.address] } }, routes: [{ pool: 'b' }] })
  const seen = nextRequest(backend.server)
  const client = httpRequest(`${proxy.url}/upload`, {
    method: 'PUT',
    agent: false,
    headers: { 'content-length': 1_000_000 },
  })
  client.on('error', () => {})
  client.write(Buffer.alloc(1000))
  // The backend has the request head and is reading its body: 1000 of 1,000,000 bytes are on their way.
  const { req, closed } = await seen
  client.destroy()
  assert.equal(await closed, true)
  assert.equal(req.complete, false)
  assert.equal(proxy.plan().pools.get('b')!.servers[0]!.state.inFlight, 0)
  assert.equal((await get(proxy.url)).status, 200)
})

/** Sends raw bytes to `url` and closes the socket at once. */
async function sendAndClose(url: string, bytes: string): Promise<void> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(bytes)
  socket.destroy()
  await once(socket, 'close')
}

/** A GET whose answer the client only sees in part; resolves with what went wrong, if anything. */
function cutDownload(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.on('data', () => {
        res.on('error', () => {})
        req.destroy()
        resolve('client closed')
      })
      res.on('error', (err) => resolve(err.message))
      res.on('end', () => resolve(res.complete ? 'complete' : 'incomplete'))
    })
    req.on('error', (err) => resolve(err.message))
    req.end()
  })
}

test('sockets killed at every stage, on either side, leave the proxy process serving', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'b', (req, res) => {
    switch (req.url) {
      case '/backend-dies-before-headers':
        req.socket.destroy()
        return
      case '/backend-dies-mid-body':
        res.writeHead(200, { 'content-length': 1000 })
        res.write('x'.repeat(10), () => req.socket.destroy())
        return
      case '/slow-download':
        res.writeHead(200)
        res.write(Buffer.alloc(64 * 1024))
        return
      default:
        req.on('error', () => {})
        req.resume()
        req.on('end', () => res.end('ok'))
    }
  })
  const portico = await spawnPortico(
    t,
    [
      'run',
      '-c',
      writeConfig({
        listeners: [{ address: '127.0.0.1:0' }],
        pools: { b: { servers: [backend.address] } },
        routes: [{ pool: 'b' }],
        access_log: { output: 'off' },
      }),
    ],
    { listeners: 1 },
  )
  const url = portico.urls[0]!

  // Client gone during its request head, then during its upload.
  await sendAndClose(url, 'GET / HTTP/1.1\r\nhost: a\r\nx-half: ')
  await sendAndClose(url, 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 100000\r\n\r\npartial body')
  // Client gone during the download.
  assert.equal(await cutDownload(`${url}/slow-download`), 'client closed')
  // Backend gone before its response head: the client gets 502.
  assert.equal((await get(`${url}/backend-dies-before-headers`)).status, 502)
  // Backend gone mid-body: the client sees an aborted response, never a complete one.
  assert.notEqual(await cutDownloadToEnd(`${url}/backend-dies-mid-body`), 'complete')

  for (let i = 0; i < 3; i++) assert.equal((await get(url)).body, 'ok')
  assert.equal(portico.child.exitCode, null, portico.output())
})

/** A GET read to its end; resolves with 'complete', 'incomplete' or the error seen. */
function cutDownloadToEnd(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.resume()
      res.on('error', (err) => resolve(err.message))
      res.on('end', () => resolve(res.complete ? 'complete' : 'incomplete'))
    })
    req.on('error', (err) => resolve(err.message))
    req.end()
  })
}
