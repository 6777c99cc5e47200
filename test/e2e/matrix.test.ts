import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import {
  type ClientHttp2Session,
  createSecureServer as createH2SecureServer,
  createServer as createH2Server,
  type IncomingHttpHeaders as H2Headers,
  type Http2ServerRequest,
  type Http2ServerResponse,
  connect as h2Connect,
} from 'node:http2'
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Readable, Writable } from 'node:stream'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'
import { listenClosing } from '../helpers/listen-sessions.ts'
import { startPortico } from '../helpers/portico.ts'

// The protocol matrix: every way a client can speak to Portico, against every way Portico can
// speak to a backend, with bodies that stress framing and backpressure in both directions. Every
// body is checked by its sha256 end to end, and every case is bounded in time, so that a stall
// fails its own case instead of hanging the file.

const clients = ['HTTP/1.1', 'HTTP/1.1 over TLS', 'HTTP/2 over TLS', 'h2c'] as const
type ClientKind = (typeof clients)[number]

/** Each backend kind with the path prefix its pool is routed by. */
const backends = { 'HTTP/1.1': '/h1', 'HTTP/1.1 over TLS': '/h1s', h2: '/h2', h2c: '/h2c' } as const
type BackendKind = keyof typeof backends

/**
 * The bodies, for a GET the response's and for a POST the request's (which the backend echoes):
 * none; 1 KiB; 5 MiB with its length; 5 MiB in 4 KiB writes without a length (chunked over
 * HTTP/1.1); and 5 MiB read by a slow client that stops reading a few times.
 */
const bodies = ['none', '1 KiB', '5 MiB with length', '5 MiB chunked', '5 MiB to a slow reader'] as const
type BodyKind = (typeof bodies)[number]

const methods = ['GET', 'POST'] as const
type Method = (typeof methods)[number]

const big = 5 * 1024 * 1024
/** The bytes every body is cut from: random, so that a byte out of place changes the hash. */
const data = randomBytes(big)

interface BodyShape {
  readonly bytes: Buffer
  /** Whether its length is sent ahead (Content-Length). */
  readonly sized: boolean
  /** The size of each write. */
  readonly piece: number
}

const shapes: Record<BodyKind, BodyShape> = {
  none: { bytes: data.subarray(0, 0), sized: true, piece: 1 },
  '1 KiB': { bytes: data.subarray(0, 1024), sized: true, piece: 1024 },
  '5 MiB with length': { bytes: data, sized: true, piece: 64 * 1024 },
  '5 MiB chunked': { bytes: data, sized: false, piece: 4 * 1024 },
  '5 MiB to a slow reader': { bytes: data, sized: false, piece: 16 * 1024 },
}

const slugs: Record<BodyKind, string> = {
  none: 'none',
  '1 KiB': '1k',
  '5 MiB with length': 'length',
  '5 MiB chunked': 'chunked',
  '5 MiB to a slow reader': 'slow',
}
const kindOfSlug = new Map(Object.entries(slugs).map(([kind, slug]) => [slug, kind as BodyKind]))

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const expected = Object.fromEntries(bodies.map((b) => [b, sha256(shapes[b].bytes)])) as Record<BodyKind, string>

/** How long one case may take before it fails, in milliseconds; a stall fails it, not the file. */
const caseMs = 30_000
/** Cases under way at once. */
const concurrency = 4

type AnyResponse = ServerResponse | Http2ServerResponse

/** Writes `shape`'s bytes to `out` in its pieces, waiting for 'drain' when asked, then ends it. */
async function writeBody(out: Writable | AnyResponse, shape: BodyShape, signal?: AbortSignal): Promise<void> {
  const { bytes, piece } = shape
  for (let at = 0; at < bytes.length; at += piece) {
    if (!(out as Writable).write(bytes.subarray(at, at + piece))) await once(out, 'drain', { signal })
  }
  ;(out as Writable).end()
}

/**
 * Reads `body` whole and returns its size and sha256. A slow reader stops three times on its way,
 * each for a moment (that pause is the behaviour under test, not a wait for something), so that
 * Portico's buffers fill and it has to hold the backend back and resume it.
 */
async function readBody(body: Readable, slow: boolean, signal: AbortSignal): Promise<{ size: number; hash: string }> {
  const hash = createHash('sha256')
  let size = 0
  let pauseAt = slow ? big / 4 : Number.POSITIVE_INFINITY
  for await (const chunk of body) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size >= pauseAt) {
      pauseAt += big / 4
      await delay(50, undefined, { signal })
    }
  }
  return { size, hash: hash.digest('hex') }
}

/**
 * The backend handler of every kind (node's compatibility API speaks both HTTP/1.1 and HTTP/2):
 * a GET is answered with the body its path names, with the sha256 of the request body it got in
 * `x-request-sha256`; a POST's body is echoed back as it arrives, with its length when it had one.
 */
function serve(req: IncomingMessage | Http2ServerRequest, res: AnyResponse): void {
  const kind = kindOfSlug.get(String(req.url).split('/')[2] ?? '')
  if (kind === undefined) {
    res.statusCode = 404
    res.end()
    return
  }
  const length = req.headers['content-length']
  if (req.method === 'POST') {
    if (length !== undefined) res.setHeader('content-length', length)
    req.pipe(res as Writable)
    return
  }
  const got = createHash('sha256')
  req.on('data', (chunk: Buffer) => got.update(chunk))
  req.on('end', () => {
    res.setHeader('x-request-sha256', got.digest('hex'))
    const shape = shapes[kind]
    if (shape.sized) res.setHeader('content-length', shape.bytes.length)
    void writeBody(res, shape).catch(() => res.destroy())
  })
}

/** What a client saw of one exchange. */
interface Seen {
  readonly status: number
  /** The backend's `x-request-sha256`, for a GET. */
  readonly requestHash: string | undefined
  readonly size: number
  readonly hash: string
}

/** Sends one request over HTTP/1.1 (plain or TLS) with `agent`, writing and reading at once. */
async function h1Exchange(
  url: string,
  agent: HttpAgent,
  method: Method,
  path: string,
  shape: BodyShape,
  slow: boolean,
  signal: AbortSignal,
): Promise<Seen> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest
  const headers = method === 'POST' && shape.sized ? { 'content-length': shape.bytes.length } : {}
  const req = send(`${url}${path}`, { method, agent, headers, signal })
  const writing = method === 'POST' ? writeBody(req, shape, signal) : Promise.resolve(void req.end())
  const reading = (once(req, 'response', { signal }) as Promise<[IncomingMessage]>).then(async ([res]) => {
    const body = await readBody(res, slow, signal)
    return { status: res.statusCode!, requestHash: res.headers['x-request-sha256'] as string | undefined, ...body }
  })
  return (await Promise.all([reading, writing]))[0]
}

/** Sends one request as a stream of `session` (HTTP/2 over TLS or h2c), writing and reading at once. */
async function h2Exchange(
  session: ClientHttp2Session,
  method: Method,
  path: string,
  shape: BodyShape,
  slow: boolean,
  signal: AbortSignal,
): Promise<Seen> {
  const empty = method === 'GET' || shape.bytes.length === 0
  const stream = session.request(
    {
      ':method': method,
      ':path': path,
      ...(method === 'POST' && shape.sized ? { 'content-length': String(shape.bytes.length) } : {}),
    },
    { endStream: empty, signal },
  )
  const writing = empty ? Promise.resolve() : writeBody(stream, shape, signal)
  const reading = (once(stream, 'response', { signal }) as Promise<[H2Headers]>).then(async ([head]) => {
    const body = await readBody(stream, slow, signal)
    return { status: Number(head[':status']), requestHash: head['x-request-sha256'] as string | undefined, ...body }
  })
  return (await Promise.all([reading, writing]))[0]
}

test('every client protocol reaches every backend protocol with every byte of every body intact, both ways', {
  timeout: 180_000,
  concurrency,
}, async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost', '127.0.0.1'])
  const pem = { cert: readFileSync(site.cert), key: readFileSync(site.key) }
  const caPem = readFileSync(ca.cert)
  const backendTls = { ca: ca.cert, server_name: 'localhost' }
  const h1 = await startBackend(t, 'h1', serve)
  const h1s = await listenClosing(t, createHttpsServer(pem, serve))
  // Windows of 1 MiB, as common HTTP/2 servers announce: node's 64 KiB default makes a 5 MiB upload
  // take about 80 round trips through a loaded event loop.
  const settings = { initialWindowSize: 1024 * 1024 }
  const h2 = await listenClosing(t, createH2SecureServer({ ...pem, settings }, serve))
  const h2c = await listenClosing(t, createH2Server({ settings }, serve))
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', http2: { enabled: true } },
      { address: '127.0.0.1:0', tls: { certificates: [site] } },
    ],
    pools: {
      h1: { servers: [h1.address] },
      h1s: { servers: [h1s], tls: backendTls },
      h2: { servers: [h2], protocol: 'h2', tls: backendTls },
      h2c: { servers: [h2c], protocol: 'h2' },
    },
    routes: Object.values(backends).map((prefix) => ({ match: { path: prefix }, pool: prefix.slice(1) })),
  })
  const [plainUrl, tlsUrl] = proxy.urls as [string, string]
  assert.match(tlsUrl, /^https:/)

  // One client of each kind for all cases, as a real one keeps its connections.
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: concurrency })
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: concurrency, ca: caPem, servername: 'localhost' })
  const h2Session = h2Connect(tlsUrl, { ca: caPem, servername: 'localhost' })
  const h2cSession = h2Connect(plainUrl)
  for (const session of [h2Session, h2cSession]) session.on('error', () => {})
  t.after(() => {
    httpAgent.destroy()
    httpsAgent.destroy()
    h2Session.destroy()
    h2cSession.destroy()
  })
  await Promise.all([once(h2Session, 'remoteSettings'), once(h2cSession, 'remoteSettings')])
  assert.equal(h2Session.alpnProtocol, 'h2')

  const exchange = (client: ClientKind, method: Method, path: string, body: BodyKind, signal: AbortSignal) => {
    const shape = shapes[body]
    const slow = body === '5 MiB to a slow reader'
    switch (client) {
      case 'HTTP/1.1':
        return h1Exchange(plainUrl, httpAgent, method, path, shape, slow, signal)
      case 'HTTP/1.1 over TLS':
        return h1Exchange(tlsUrl, httpsAgent, method, path, shape, slow, signal)
      case 'HTTP/2 over TLS':
        return h2Exchange(h2Session, method, path, shape, slow, signal)
      case 'h2c':
        return h2Exchange(h2cSession, method, path, shape, slow, signal)
    }
  }

  const cases: Promise<void>[] = []
  for (const client of clients) {
    for (const [backend, prefix] of Object.entries(backends) as [BackendKind, string][]) {
      for (const body of bodies) {
        for (const method of methods) {
          const name = `${client} client, ${backend} backend: ${method} with ${body}`
          const path = `${prefix}/${slugs[body]}`
          cases.push(
            t.test(name, { timeout: caseMs + 1000 }, async () => {
              // Not the test's own signal: that one aborts when the case ends, and would reset streams that are done.
              const stop = new AbortController()
              const timer = setTimeout(() => stop.abort(new Error(`not done within ${caseMs} ms`)), caseMs)
              const seen = await exchange(client, method, path, body, stop.signal).finally(() => clearTimeout(timer))
              assert.equal(seen.status, 200)
              if (method === 'GET') assert.equal(seen.requestHash, expected.none, 'the backend got no request body')
              assert.equal(seen.size, shapes[body].bytes.length, 'body size')
              assert.equal(seen.hash, expected[body], 'body sha256')
            }),
          )
        }
      }
    }
  }
  await Promise.all(cases)
})
