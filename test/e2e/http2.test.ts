import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { type ClientHttp2Session, connect, constants } from 'node:http2'
import { test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'
import { get, rawHttp } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

const run = promisify(execFile)

async function h2Session(url: string): Promise<ClientHttp2Session> {
  const session = connect(url)
  session.on('error', () => {})
  await once(session, 'remoteSettings')
  return session
}

test('a plain listener with http2 takes h2c with prior knowledge and HTTP/1.1 on the same port', async (t) => {
  const backend = await startBackend(t, 'web', (req, res) => res.end(`seen ${req.headers.via}`))
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const h2 = await run('curl', ['-sS', '--http2-prior-knowledge', '-w', ' %{http_version}', `${proxy.url}/`])
  assert.equal(h2.stdout, 'seen 2 portico 2')
  const h1 = await get(`${proxy.url}/`)
  assert.equal(h1.body, 'seen 1.1 portico')
})

test('a plain listener without http2 does not speak h2c', async (t) => {
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  await assert.rejects(run('curl', ['-sS', '--http2-prior-knowledge', '-m', '5', `${proxy.url}/`]))
})

test('HTTP/2 limits are announced and enforced: concurrent streams and header list size', async (t) => {
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [
      {
        address: '127.0.0.1:0',
        http2: { enabled: true, max_concurrent_streams: 7, max_header_list_size: '4KiB' },
      },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  assert.equal(session.remoteSettings.maxConcurrentStreams, 7)
  assert.equal(session.remoteSettings.maxHeaderListSize, 4096)
  assert.equal(session.remoteSettings.enablePush, false)

  const ok = session.request({ ':path': '/' })
  const [head] = await once(ok, 'response')
  assert.equal(head[':status'], 200)
  ok.resume()

  const huge = session.request({ ':path': '/', 'x-big': 'x'.repeat(8000) })
  huge.on('error', () => {})
  // `once` would reject on the stream's error event; the outcome is what matters here.
  const outcome = await new Promise((resolve) => {
    huge.on('response', (h) => resolve(`status ${h[':status']}`))
    huge.on('close', () => resolve(huge.rstCode))
  })
  assert.equal(outcome, constants.NGHTTP2_ENHANCE_YOUR_CALM, 'a header list over the limit is refused')
})

test('a client that resets streams faster than allowed loses its connection; others keep working', async (t) => {
  const backend = await startBackend(t, 'web', () => {
    // Never answers: every stream stays open until the client resets it.
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true, max_reset_burst: 50, max_resets_per_second: 5 } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const abuser = await h2Session(proxy.url)
  const goaway = new Promise<number>((resolve) => abuser.on('goaway', resolve))
  const closed = new Promise((resolve) => abuser.on('close', resolve))
  // A burst of 50 is allowed; send well over that.
  for (let i = 0; i < 200 && !abuser.destroyed && !abuser.closed; i++) {
    const stream = abuser.request({ ':path': `/${i}` })
    stream.on('error', () => {})
    stream.close(constants.NGHTTP2_CANCEL)
    if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve))
  }
  assert.equal(await goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM)
  await closed

  const fresh = await h2Session(proxy.url)
  t.after(() => fresh.destroy())
  assert.equal(fresh.destroyed, false)
})

/** Sends `count` requests on `session` at once and resolves once every answer has been read. */
async function answered(session: ClientHttp2Session, path: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      const stream = session.request({ ':path': path })
      stream.resume()
      await once(stream, 'end')
    }),
  )
}

for (const tls of [false, true]) {
  test(`${tls ? 'h2 over TLS' : 'h2c'}: a rapid-reset flood is cut by Portico's guard with ENHANCE_YOUR_CALM after a few streams, and no cancelled request reaches a backend (#21)`, async (t) => {
    let seen = 0
    const backend = await startBackend(t, 'web', (req, res) => {
      seen++
      res.end(req.url)
    })
    const ca = tls ? new TestCa(t) : undefined
    const proxy = await startPortico(t, {
      listeners: [
        {
          address: '127.0.0.1:0',
          tls: ca ? { certificates: [ca.issue('localhost', ['localhost'])] } : undefined,
          http2: { enabled: true, max_reset_burst: 20, max_resets_per_second: 5 },
        },
      ],
      pools: { web: { servers: [backend.address] } },
      routes: [{ pool: 'web' }],
    })
    const options = ca ? { ca: readFileSync(ca.cert), servername: 'localhost' } : {}
    const attacker = connect(proxy.url, options)
    attacker.on('error', () => {})
    t.after(() => attacker.destroy())
    await once(attacker, 'remoteSettings')
    // Idle backend connections, so that a request let through would be written at once.
    await answered(attacker, '/warm', 20)
    assert.equal(seen, 20)
    const goaway = new Promise<[number, number]>((resolve) =>
      attacker.on('goaway', (code, last) => resolve([code, last])),
    )
    // HEADERS then RST_STREAM for each stream, a hundred at a time (node's client sends no more
    // than the server's max_concurrent_streams at once), until the connection is closed.
    let sent = 0
    while (!attacker.closed && !attacker.destroyed && sent < 5000) {
      for (let i = 0; i < 100; i++, sent++) {
        const stream = attacker.request({ ':path': '/flood' })
        stream.on('error', () => {})
        stream.close(constants.NGHTTP2_CANCEL)
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    const [code, lastStream] = await goaway
    assert.equal(code, constants.NGHTTP2_ENHANCE_YOUR_CALM, "closed by Portico, not by node's own limit")
    // Client streams have odd ids: 20 warm-up streams, then the flood up to the batch that crossed the limit.
    assert.ok(lastStream < 2 * (20 + 20 + 100), `last stream read ${lastStream}`)
    // A request on a new connection once the flood is over: the backend has seen all it will.
    const fresh = connect(proxy.url, options)
    fresh.on('error', () => {})
    t.after(() => fresh.destroy())
    await answered(fresh, '/after', 1)
    assert.equal(seen, 21, 'only the warm-up requests and the one after')
  })
}

test('streams reset with their request are logged as client_aborted, reach no backend, and leave the connection open (#21)', async (t) => {
  let seen = 0
  const backend = await startBackend(t, 'web', (req, res) => {
    seen++
    res.end(req.url)
  })
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: log, format: 'json' },
  })
  const client = await h2Session(proxy.url)
  t.after(() => client.destroy())
  await answered(client, '/warm', 5)
  for (let i = 0; i < 10; i++) {
    const stream = client.request({ ':path': '/cancelled' })
    stream.on('error', () => {})
    stream.close(constants.NGHTTP2_CANCEL)
  }
  // Under the limit: the same connection still serves.
  await answered(client, '/after', 1)
  assert.equal(seen, 6)
  const lines = await readLogRecords(proxy, log)
  const cancelled = lines.filter((l) => l.path === '/cancelled')
  assert.equal(cancelled.length, 10)
  assert.ok(cancelled.every((l) => l.outcome === 'client_aborted' && l.status === 0))
})

test('WebSocket over HTTP/1.1 works on a TLS listener that also offers HTTP/2', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'ws')
  backend.server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n')
    socket.on('data', (chunk: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), chunk])))
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { ws: { servers: [backend.address] } },
    routes: [{ pool: 'ws' }],
  })
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: Number(new URL(proxy.url).port),
    servername: 'localhost',
    ca: readFileSync(ca.cert),
    ALPNProtocols: ['http/1.1'],
  })
  t.after(() => socket.destroy())
  await once(socket, 'secureConnect')
  socket.write('GET /chat HTTP/1.1\r\nhost: localhost\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n')
  let text = ''
  const until = async (pattern: RegExp) => {
    while (!pattern.test(text)) text += ((await once(socket, 'data')) as [Buffer])[0].toString()
  }
  await until(/\r\n\r\n/)
  assert.match(text, /^HTTP\/1\.1 101/)
  socket.write('hello')
  await until(/echo:hello/)
})

test('shutdown sends HTTP/2 clients GOAWAY and lets their requests in flight finish', async (t) => {
  let release: (() => void) | undefined
  const arrived = Promise.withResolvers<void>()
  const { address } = await startBackend(t, 'slow', (_req, res) => {
    release = () => res.end('finished')
    arrived.resolve()
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [address] } },
    routes: [{ pool: 'web' }],
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  const goaway = new Promise((resolve) => session.on('goaway', resolve))
  const stream = session.request({ ':path': '/' })
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  await arrived.promise
  const closed = proxy.close(10_000)
  await goaway
  release!()
  await once(stream, 'end')
  assert.equal(Buffer.concat(chunks).toString(), 'finished')
  await closed
})

test('an HTTP/2 client that cancels its stream aborts the request to the backend', async (t) => {
  let backendClosed: Promise<unknown> | undefined
  const arrived = Promise.withResolvers<void>()
  const backend = await startBackend(t, 'slow', (req) => {
    backendClosed = once(req.socket, 'close')
    arrived.resolve()
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  const stream = session.request({ ':path': '/' })
  stream.on('error', () => {})
  await arrived.promise
  stream.close(constants.NGHTTP2_CANCEL)
  await backendClosed
})

test('broken HTTP/2 and TLS input closes that connection only; Portico keeps serving', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', http2: { enabled: true } },
      { address: '127.0.0.1:0', tls: { certificates: [site] } },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const [plain, secure] = proxy.urls as [string, string]
  const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
  // A SETTINGS frame with a length that is not a multiple of 6, then a frame on stream 0 of an unknown kind.
  const junk = Buffer.concat([Buffer.from(preface), Buffer.from([0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5])])
  await rawHttp(plain, junk, 2000)
  await rawHttp(plain, `${preface}\x00\x00`, 200)
  await rawHttp(secure, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', 2000)
  assert.equal((await get(plain)).body, 'web')
  const { stdout } = await run('curl', ['-sSk', '--http2', `${secure}/`])
  assert.equal(stdout, 'web')
})

test('a TLS listener with http2 turned off answers HTTP/2-capable clients with HTTP/1.1', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] }, http2: { enabled: false } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const { stdout } = await run('curl', ['-sSk', '--http2', '-w', ' %{http_version}', `${proxy.url}/`])
  assert.equal(stdout, 'web 1.1')
})

test('an HTTP/2 response cut after its head reaches the client as a reset stream, never as a complete body (#21)', async (t) => {
  // The backend sends half its announced body and falls silent: Portico gives up after body_idle.
  const backend = await startBackend(t, 'stalls', (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' })
    res.write(Buffer.alloc(500))
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address], timeouts: { body_idle: '200ms' } } },
    routes: [{ pool: 'web' }],
  })
  const session = await h2Session(proxy.url)
  t.after(() => session.destroy())
  const stream = session.request({ ':path': '/' })
  const [head] = await once(stream, 'response')
  assert.equal(head[':status'], 200)
  let size = 0
  const read = (async () => {
    for await (const chunk of stream) size += (chunk as Buffer).length
  })()
  await assert.rejects(read, { code: 'ERR_HTTP2_STREAM_ERROR' })
  assert.equal(size, 500)
  assert.notEqual(stream.rstCode, constants.NGHTTP2_NO_ERROR)
  // The connection stays usable for the next request.
  const next = session.request({ ':path': '/' })
  const [again] = await once(next, 'response')
  assert.equal(again[':status'], 200)
  next.destroy()
})

for (const protocol of ['http1', 'h2'] as const) {
  test(`an HTTP/2 client's upload cut by its reset never reaches an ${protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'} backend as a whole body (#21)`, async (t) => {
    // The backend says how each request body ended: read to its end, or cut.
    const ended = Promise.withResolvers<string>()
    const onRequest = (req: import('node:http').IncomingMessage | import('node:http2').Http2ServerRequest) => {
      let bytes = 0
      req.on('data', (c: Buffer) => {
        bytes += c.length
        if (bytes >= 3 * 16384) arrived.resolve()
      })
      req.on('end', () => ended.resolve(req.aborted ? `cut after ${bytes}` : `whole: ${bytes} bytes`))
      req.on('error', () => ended.resolve(`cut after ${bytes}`))
      req.on('aborted', () => ended.resolve(`cut after ${bytes}`))
    }
    const arrived = Promise.withResolvers<void>()
    let address: string
    if (protocol === 'h2') {
      const server = (await import('node:http2')).createServer(onRequest)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      t.after(() => server.close())
      address = `127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
    } else address = (await startBackend(t, 'up', onRequest)).address
    const proxy = await startPortico(t, {
      listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
      pools: { web: { servers: [address], protocol } },
      routes: [{ pool: 'web' }],
    })
    const session = await h2Session(proxy.url)
    t.after(() => session.destroy())
    // No content-length: only the stream's end says where the body ends.
    const stream = session.request({ ':method': 'POST', ':path': '/up' })
    stream.on('error', () => {})
    stream.write(Buffer.alloc(4 * 16384, 'a'))
    await arrived.promise
    // node's client would end the body (END_STREAM) before its RST_STREAM, which makes it whole;
    // most clients reset a stream without ending it first.
    stream._final = () => {}
    stream.close(constants.NGHTTP2_CANCEL)
    assert.match(await ended.promise, /^cut after/)
  })
}
