import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect as h2connect } from 'node:http2'
import { test } from 'node:test'
import { brotliDecompressSync, createGunzip, gunzipSync, gzipSync, zstdDecompressSync } from 'node:zlib'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { startPortico } from '../helpers/portico.ts'
import { startRawBackend } from '../helpers/raw-backend.ts'

/** A response with its body as bytes, as they came off the wire. */
interface RawReply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

function fetchRaw(url: string, headers: OutgoingHttpHeaders = {}, method = 'GET', body?: Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const json = Buffer.from(
  JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', 'c'] }))),
)

/** A backend that answers every request with `body` and the given headers. */
async function serving(t: Parameters<typeof startBackend>[0], headers: Record<string, string>, body = json) {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-length': body.length, ...headers })
    res.end(body)
  })
  return startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: {} }],
  })
}

const decoders = { gzip: gunzipSync, br: brotliDecompressSync, zstd: zstdDecompressSync } as const

for (const coding of ['gzip', 'br', 'zstd'] as const) {
  test(`a ${coding} response decodes to the backend's exact bytes`, async (t) => {
    const proxy = await serving(t, { 'content-type': 'application/json' })
    const reply = await fetchRaw(proxy.url, { 'accept-encoding': coding })
    assert.equal(reply.status, 200)
    assert.equal(reply.headers['content-encoding'], coding)
    assert.equal(reply.headers['content-length'], undefined)
    assert.ok(reply.body.length < json.length / 4, `${reply.body.length} bytes for ${json.length}`)
    assert.deepEqual(decoders[coding](reply.body), json)
  })
}

for (const coding of ['gzip', 'br'] as const)
  test(`${coding} responses in flight together, and one after another, each decode to their own bytes`, async (t) => {
    // Each path gets a different body, so that bytes of one response turning up in another show.
    const bodyFor = (path: string) => Buffer.from(`${path} `.repeat(5000 + path.length * 97))
    const backend = await startBackend(t, 'a', (req, res) => {
      const body = bodyFor(req.url!)
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
      res.end(body)
    })
    const proxy = await startPortico(t, {
      pools: { web: { servers: [backend.address] } },
      routes: [{ pool: 'web', compression: { codings: [coding] } }],
    })
    for (let wave = 0; wave < 3; wave++) {
      const paths = Array.from({ length: 12 }, (_, i) => `/w${wave}/r${i}`)
      const replies = await Promise.all(
        paths.map((p) => fetchRaw(new URL(p, proxy.url).href, { 'accept-encoding': coding })),
      )
      replies.forEach((reply, i) => {
        assert.equal(reply.headers['content-encoding'], coding)
        assert.deepEqual(decoders[coding](reply.body), bodyFor(paths[i]!))
      })
    }
  })

test('binary bytes of every value survive compression unchanged', async (t) => {
  const bytes = Buffer.alloc(300_000)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251
  const proxy = await serving(t, { 'content-type': 'application/wasm' }, bytes)
  for (const coding of ['gzip', 'br', 'zstd'] as const) {
    const reply = await fetchRaw(proxy.url, { 'accept-encoding': coding })
    assert.deepEqual(decoders[coding](reply.body), bytes)
  }
})

test('the client’s preference and q-values choose the coding; Vary says so', async (t) => {
  const proxy = await serving(t, { 'content-type': 'text/html; charset=utf-8' })
  const pick = async (ae: string) => (await fetchRaw(proxy.url, { 'accept-encoding': ae })).headers
  assert.equal((await pick('gzip, deflate, br, zstd'))['content-encoding'], 'zstd')
  assert.equal((await pick('br;q=1, zstd;q=0.5'))['content-encoding'], 'br')
  assert.equal((await pick('identity'))['content-encoding'], undefined)
  const plain = await fetchRaw(proxy.url)
  assert.equal(plain.headers['content-encoding'], undefined)
  assert.equal(plain.headers['content-length'], String(json.length))
  assert.deepEqual(plain.body, json)
  assert.equal(plain.headers.vary, 'Accept-Encoding')
})

test('a strong ETag is made weak and an existing Vary is extended', async (t) => {
  const proxy = await serving(t, { 'content-type': 'application/json', etag: '"v1"', vary: 'Origin' })
  const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'gzip' })
  assert.equal(reply.headers.etag, 'W/"v1"')
  assert.equal(reply.headers.vary, 'Origin, Accept-Encoding')
})

const untouched: [string, Record<string, string>, OutgoingHttpHeaders, string?][] = [
  ['a body the backend already encoded', { 'content-type': 'application/json', 'content-encoding': 'br' }, {}],
  ['Cache-Control: no-transform', { 'content-type': 'application/json', 'cache-control': 'public, no-transform' }, {}],
  ['a content type not in the list', { 'content-type': 'image/png' }, {}],
  ['a response without a content type', {}, {}],
  ['a HEAD request', { 'content-type': 'application/json' }, {}, 'HEAD'],
]

for (const [what, headers, extra, method] of untouched) {
  test(`${what} is sent as it is`, async (t) => {
    const proxy = await serving(t, headers)
    const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'gzip, br, zstd', ...extra }, method)
    assert.equal(reply.headers['content-encoding'], headers['content-encoding'])
    assert.equal(reply.headers['content-length'], String(json.length))
    if (method !== 'HEAD') assert.deepEqual(reply.body, json)
  })
}

test('a 206 partial response is sent as it is', async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(206, { 'content-type': 'text/plain', 'content-range': `bytes 0-1999/${json.length}` })
    res.end(json.subarray(0, 2000))
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: {} }],
  })
  const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'gzip', range: 'bytes=0-1999' })
  assert.equal(reply.status, 206)
  assert.equal(reply.headers['content-encoding'], undefined)
  assert.deepEqual(reply.body, json.subarray(0, 2000))
})

test('a response below min_size is sent as it is', async (t) => {
  const small = Buffer.from('{"ok":true}')
  const proxy = await serving(t, { 'content-type': 'application/json' }, small)
  const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'gzip' })
  assert.equal(reply.headers['content-encoding'], undefined)
  assert.deepEqual(reply.body, small)
})

test('a route without compression passes bodies through untouched', async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(json)
  })
  const proxy = await startPortico(t, { pools: { web: { servers: [backend.address] } }, routes: [{ pool: 'web' }] })
  const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'gzip' })
  assert.equal(reply.headers['content-encoding'], undefined)
  assert.equal(reply.headers.vary, undefined)
})

test('server-sent events arrive through compression one by one, without delay', { timeout: 10_000 }, async (t) => {
  const received: string[] = []
  let sendNext: (() => void) | undefined
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    let n = 0
    sendNext = () => {
      n++
      if (n <= 3) res.write(`data: event ${n}\n\n`)
      else res.end()
    }
    sendNext()
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: { codings: ['gzip'] } }],
  })
  const req = httpRequest(proxy.url, { headers: { 'accept-encoding': 'gzip' }, agent: false })
  req.end()
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
  assert.equal(res.headers['content-encoding'], 'gzip')
  const gunzip = createGunzip()
  res.pipe(gunzip)
  let text = ''
  // Each event must be readable before the backend sends the next: nothing is held back.
  gunzip.on('data', (chunk: Buffer) => {
    text += chunk.toString()
    while (text.includes('\n\n')) {
      const at = text.indexOf('\n\n')
      received.push(text.slice(0, at))
      text = text.slice(at + 2)
      sendNext!()
    }
  })
  await once(gunzip, 'end')
  assert.deepEqual(received, ['data: event 1', 'data: event 2', 'data: event 3'])
})

test('a gzip request body is decoded for the backend when requests are enabled', async (t) => {
  let seen: { headers: IncomingHttpHeaders; body: Buffer } | undefined
  const backend = await startBackend(t, 'a', async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    seen = { headers: req.headers, body: Buffer.concat(chunks) }
    res.end('ok')
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: { requests: {} } }],
  })
  const zipped = gzipSync(json)
  const reply = await fetchRaw(
    proxy.url,
    { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.length },
    'POST',
    zipped,
  )
  assert.equal(reply.status, 200)
  assert.deepEqual(seen!.body, json)
  assert.equal(seen!.headers['content-encoding'], undefined)
})

test('a request without a body passes untouched, whatever its Content-Encoding says', async (t) => {
  let seen: IncomingHttpHeaders | undefined
  const backend = await startBackend(t, 'a', (req, res) => {
    seen = req.headers
    res.end('ok')
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: { requests: {} } }],
  })
  const reply = await fetchRaw(proxy.url, { 'content-encoding': 'gzip' }, 'GET')
  assert.equal(reply.status, 200)
  assert.equal(reply.body.toString(), 'ok')
  assert.equal(seen!['content-encoding'], 'gzip')
})

test('a zip bomb request body gets 413 once it decodes past max_decoded_size', async (t) => {
  let reached = 0
  const backend = await startBackend(t, 'a', (req, res) => {
    req.on('data', (c: Buffer) => (reached += c.length))
    req.on('error', () => {})
    req.on('end', () => res.end('ok'))
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: { requests: { max_decoded_size: '1MiB' } } }],
  })
  // 64 MiB of zeros squeeze into about 64 KiB.
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })
  const reply = await fetchRaw(
    proxy.url,
    { 'content-encoding': 'gzip', 'content-length': bomb.length },
    'POST',
    bomb,
  ).catch((err: NodeJS.ErrnoException) => ({ status: err.code, headers: {}, body: Buffer.alloc(0) }))
  assert.equal(reply.status, 413)
  assert.ok(reached <= 1024 * 1024, `${reached} bytes reached the backend`)
})

test('a compressed response can also be buffered for the client', async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(json)
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: {}, buffering: { response: { memory: '1KiB' } } }],
  })
  const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'br' })
  assert.equal(reply.headers['content-encoding'], 'br')
  assert.deepEqual(brotliDecompressSync(reply.body), json)
})

test('with request buffering, a zip bomb gets 413 before any backend is chosen', async (t) => {
  let reached = false
  let got: { length: string | undefined; bytes: number } | undefined
  const backend = await startBackend(t, 'a', (req, res) => {
    reached = true
    let bytes = 0
    req.on('data', (c: Buffer) => (bytes += c.length))
    req.on('end', () => {
      got = { length: req.headers['content-length'], bytes }
      res.end()
    })
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      {
        pool: 'web',
        compression: { requests: { max_decoded_size: '1MiB' } },
        buffering: { request: { memory: '64KiB', disk: '8MiB' } },
      },
    ],
  })
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })
  const reply = await fetchRaw(proxy.url, { 'content-encoding': 'gzip' }, 'POST', bomb)
  assert.equal(reply.status, 413)
  assert.equal(reached, false)
  // A body that decodes within the limit reaches the backend decoded, with its real length.
  const small = await fetchRaw(proxy.url, { 'content-encoding': 'gzip' }, 'POST', gzipSync(json))
  assert.equal(small.status, 200)
  assert.deepEqual(got, { length: String(json.length), bytes: json.length })
})

test('the access log counts the compressed bytes the client got', async (t) => {
  const log = accessLogFile(t)
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.length })
    res.end(json)
  })
  const proxy = await startPortico(t, {
    access_log: { output: log, format: 'json' },
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', compression: {} }],
  })
  const reply = await fetchRaw(proxy.url, { 'accept-encoding': 'gzip' })
  const [line] = await readLogRecords(proxy, log)
  assert.equal(line.bytes_out, reply.body.length)
})

/** A POST of `body` with `Content-Encoding: gzip` over HTTP/2 (h2c); resolves with the status and body. */
async function h2Post(url: string, body: Buffer): Promise<{ status: number; body: string }> {
  const session = h2connect(url)
  session.on('error', () => {})
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/', 'content-encoding': 'gzip' })
    stream.end(body)
    const [head] = (await once(stream, 'response')) as [Record<string, string | number>]
    let text = ''
    stream.on('data', (c: Buffer) => (text += c))
    await once(stream, 'end')
    return { status: Number(head[':status']), body: text }
  } finally {
    session.close()
  }
}

for (const size of ['small', 'large'] as const) {
  test(`a ${size} corrupt gzip request body gets 400 bad_encoding over HTTP/1.1 and HTTP/2, and is logged (#21)`, async (t) => {
    const log = accessLogFile(t)
    const backend = await startBackend(t, 'a', (req, res) => {
      req.on('error', () => {})
      req.on('end', () => res.end('ok'))
      req.resume()
    })
    const proxy = await startPortico(t, {
      access_log: { output: log, format: 'json' },
      listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
      pools: { web: { servers: [backend.address] } },
      routes: [{ pool: 'web', compression: { requests: {} } }],
    })
    // A valid gzip start, then bytes that are not deflate data: the decoder fails part way.
    const valid = gzipSync(randomBytes(size === 'small' ? 100 : 4 * 1024 * 1024))
    const corrupt = Buffer.concat([
      valid.subarray(0, Math.min(valid.length, 64 * 1024)),
      Buffer.alloc(size === 'small' ? 200 : 2 * 1024 * 1024, 0xff),
    ])
    const h1 = await fetchRaw(
      proxy.url,
      { 'content-encoding': 'gzip', 'content-length': corrupt.length },
      'POST',
      corrupt,
    )
    assert.equal(h1.status, 400)
    assert.equal(h1.body.toString(), 'Bad Request\n')
    const chunked = await fetchRaw(proxy.url, { 'content-encoding': 'gzip' }, 'POST', corrupt)
    assert.equal(chunked.status, 400)
    const h2 = await h2Post(proxy.url, corrupt)
    assert.equal(h2.status, 400)
    assert.equal(h2.body, 'Bad Request\n')
    const records = await readLogRecords(proxy, log)
    assert.deepEqual(
      records.map((r) => [r.status, r.outcome]),
      [
        [400, 'bad_encoding'],
        [400, 'bad_encoding'],
        [400, 'bad_encoding'],
      ],
    )
  })
}

/** How a GET ended for the client: its status and body, or `aborted` when the response was cut. */
function outcomeOf(url: string, headers: OutgoingHttpHeaders, onData?: () => void): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => {
        chunks.push(c)
        onData?.()
      })
      res.on('error', () => resolve('aborted'))
      res.on('aborted', () => resolve('aborted'))
      res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).length}`))
    })
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ECONNRESET' ? 'reset before any answer' : String(err)),
    )
    req.end()
  })
}

for (const compression of [true, false]) {
  test(`a backend that resets after its head gives 502, ${compression ? 'with' : 'without'} compression, every time (#21)`, async (t) => {
    const backend = await startRawBackend(t, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n', () =>
        socket.resetAndDestroy(),
      )
    })
    const proxy = await startPortico(t, {
      // Outlier detection off: every request must meet the failing backend, not an ejected pool.
      pools: { web: { servers: [backend.address], outlier: { consecutive_failures: 0 } } },
      routes: [{ pool: 'web', ...(compression ? { compression: {} } : {}) }],
    })
    const seen = []
    for (let i = 0; i < 20; i++) seen.push(await outcomeOf(proxy.url, { 'accept-encoding': 'gzip' }))
    assert.deepEqual(seen, Array(20).fill('502 12'))
  })
}

for (const compression of [true, false]) {
  test(`a backend that resets after some body bytes reached the client leaves an aborted response, ${compression ? 'with' : 'without'} compression (#21)`, async (t) => {
    let reset: (() => void) | undefined
    const backend = await startRawBackend(t, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n')
      socket.write(`1000\r\n${'x'.repeat(0x1000)}\r\n`)
      reset = () => socket.resetAndDestroy()
    })
    const proxy = await startPortico(t, {
      // Outlier detection off: every request must meet the failing backend, not an ejected pool.
      pools: { web: { servers: [backend.address], outlier: { consecutive_failures: 0 } } },
      routes: [{ pool: 'web', ...(compression ? { compression: {} } : {}) }],
    })
    const seen = []
    for (let i = 0; i < 10; i++) seen.push(await outcomeOf(proxy.url, { 'accept-encoding': 'gzip' }, () => reset?.()))
    assert.deepEqual(seen, Array(10).fill('aborted'))
  })
}
