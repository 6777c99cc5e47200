import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { type TestContext, test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import type { ConfigInput } from '../../src/config/schema.ts'
import { TestCa } from '../helpers/certs.ts'
import { startPortico, type TestPortico } from '../helpers/portico.ts'
import { type RecordingBackend, startRecordingBackend } from '../helpers/recording-backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

// Every case runs for a plain HTTP/1.1 client and for an HTTP/1.1 client over TLS (ALPN http/1.1).
const transports = ['HTTP/1.1', 'HTTP/1.1 over TLS'] as const
type Transport = (typeof transports)[number]

// The request an attacker hides: a path a route refuses, with a forged client address.
const blocked = 'GET /blocked HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n'
const blockedThenClose = 'GET /blocked HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n'

function upgradeRequest(upgrade = 'websocket', extra = '', method = 'GET'): string {
  return (
    `${method} /chat HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  )
}

/** A raw client connection to Portico that keeps what it receives. */
interface Client {
  write(bytes: string): void
  text(): string
  /** Resolves once `done()` holds, checked after every chunk received and on close. */
  until(done: () => boolean): Promise<void>
  readonly closed: Promise<void>
}

/** Opens a raw connection to `url`: TCP for http, TLS choosing HTTP/1.1 by ALPN for https. */
function dial(t: TestContext, url: string): Client {
  const { protocol, hostname, port } = new URL(url)
  const socket: Duplex =
    protocol === 'https:'
      ? tlsConnect({ host: hostname, port: Number(port), ALPNProtocols: ['http/1.1'], rejectUnauthorized: false })
      : netConnect(Number(port), hostname)
  t.after(() => socket.destroy())
  let text = ''
  let ended = false
  const changed = new EventEmitter()
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1')
    changed.emit('change')
  })
  // A write after Portico closed may fail with EPIPE or ECONNRESET: the connection is over either way.
  socket.on('error', () => {})
  const closed = once(socket, 'close').then(() => {
    ended = true
    changed.emit('change')
  })
  return {
    write: (bytes) => void (socket.destroyed ? undefined : socket.write(bytes)),
    text: () => text,
    async until(done) {
      while (!done() && !ended) await once(changed, 'change', { signal: t.signal })
    },
    closed,
  }
}

/** The statuses of the responses in `text`. */
function statuses(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]!)
}

/** The request lines a backend received. */
function requestLines(received: string): string[] {
  return [...received.matchAll(/^[A-Z]+ \S+ HTTP\/1\.[01]\r$/gm)].map((m) => m[0].trimEnd())
}

/**
 * Portico on `transport` with a pool of `backend` and a route that refuses `/blocked`: what reaches
 * the backend for that path got past the routes.
 */
async function proxyFor(
  t: TestContext,
  transport: Transport,
  backend: RecordingBackend,
  extra: Partial<ConfigInput> = {},
): Promise<TestPortico> {
  const listeners =
    transport === 'HTTP/1.1'
      ? [{ address: '127.0.0.1:0' }]
      : [{ address: '127.0.0.1:0', tls: { certificates: [new TestCa(t).issue('localhost', ['localhost'])] } }]
  return startPortico(t, {
    listeners,
    pools: { rec: { servers: [backend.address] } },
    routes: [{ match: { path: '/blocked' }, respond: { status: 403, body: 'blocked\n' } }, { pool: 'rec' }],
    ...extra,
  })
}

/**
 * A backend's answers to an upgrade request that refuse it or break it: the status the client gets,
 * and the bytes the backend writes. None of them may open a tunnel.
 */
const refusals: [string, string, string | null][] = [
  ['403 on a connection it keeps alive', '403', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way'],
  ['200 on a connection it keeps alive', '200', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['200 with a chunked body', '200', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  ['426 Upgrade Required', '426', 'HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n'],
  ['100 Continue, then 403', '403', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'],
  [
    '101 to a protocol that was not asked for',
    '502',
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
  ],
  ['101 without Upgrade', '502', 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n'],
  ['101 without Connection: upgrade', '502', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
  ['a malformed answer', '502', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!'],
  ['a hang-up without an answer', '502', null],
]

for (const transport of transports) {
  for (const [name, status, answer] of refusals) {
    for (const when of ['with the request', 'once the answer came'] as const) {
      test(`${transport}: after a backend's ${name}, bytes the client sent ${when} never reach a backend (#21)`, async (t) => {
        const backend = await startRecordingBackend(t, (socket, _head, index) => {
          if (index > 0) return
          if (answer === null) socket.destroy()
          else socket.write(answer)
        })
        const proxy = await proxyFor(t, transport, backend)
        const client = dial(t, proxy.url)
        const frame = '\x81\x05hello'
        client.write(upgradeRequest() + (when === 'with the request' ? blocked + frame : ''))
        if (when === 'once the answer came') {
          await client.until(() => /\r\n\r\n/.test(client.text()))
          client.write(blocked + frame)
        }
        // Over when Portico has closed both sides, or as soon as the hidden request got through.
        await Promise.race([
          client.closed.then(() => backend.until(() => backend.open() === 0)),
          backend.until(() => backend.received().includes('blocked')),
        ])
        assert.deepEqual(statuses(client.text()), [status], client.text())
        const received = backend.received()
        assert.deepEqual(requestLines(received), ['GET /chat HTTP/1.1'], received)
        assert.ok(received.endsWith('\r\n\r\n') && !received.includes('hello'), received)
        assert.equal(backend.open(), 0, 'the backend connection is closed, never reused')
      })
    }
  }

  test(`${transport}: a 101 for the protocol asked opens the tunnel, and the client's early bytes follow it (#21)`, async (t) => {
    let answeredAt = -1
    const backend = await startRecordingBackend(t, (socket, _head, index) => {
      if (index > 0) return
      answeredAt = backend.received().length
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\nhi')
    })
    const proxy = await proxyFor(t, transport, backend)
    const client = dial(t, proxy.url)
    client.write(`${upgradeRequest()}early`)
    await backend.until(() => backend.received().includes('early'))
    assert.ok(answeredAt > 0 && backend.received().indexOf('early') >= answeredAt, 'held until the 101 was sent')
    await client.until(() => client.text().endsWith('hi'))
    assert.match(client.text(), /^HTTP\/1\.1 101 Switching Protocols\r\n/)
    client.write('later')
    await backend.until(() => backend.received().endsWith('later'))
  })

  /**
   * Upgrade requests that must not become tunnels: each is served as an ordinary request, without
   * its Upgrade, and the request pipelined after it is read as a request and refused by its route.
   */
  const ordinary: [string, string, Partial<ConfigInput>, string[]][] = [
    [
      'Upgrade: h2c',
      upgradeRequest('h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n').replace(
        'Connection: Upgrade',
        'Connection: Upgrade, HTTP2-Settings',
      ),
      {},
      ['200'],
    ],
    [
      'Upgrade: h2c on a POST with a body',
      `${upgradeRequest('h2c', 'Content-Length: 5\r\n', 'POST')}hello`,
      {},
      ['200'],
    ],
    ['a WebSocket upgrade with a body', `${upgradeRequest('websocket', 'Content-Length: 5\r\n')}hello`, {}, ['200']],
    [
      'a WebSocket upgrade with a chunked body',
      `${upgradeRequest('websocket', 'Transfer-Encoding: chunked\r\n')}5\r\nhello\r\n0\r\n\r\n`,
      {},
      ['200'],
    ],
    ['a protocol no route allows', upgradeRequest('x-raw'), {}, ['200']],
    ['a WebSocket upgrade over HTTP/1.0', upgradeRequest().replace('HTTP/1.1', 'HTTP/1.0'), {}, ['200']],
    [
      'a WebSocket upgrade on a route that allows none',
      upgradeRequest(),
      {
        routes: [
          { match: { path: '/blocked' }, respond: { status: 403 } },
          { match: { path: '/chat' }, pool: 'rec', upgrades: [] },
          { pool: 'rec' },
        ],
      },
      // The socket has left node's parser: the connection ends after the answer.
      ['200'],
    ],
  ]
  for (const [name, bytes, config, expected] of ordinary) {
    test(`${transport}: ${name} is served as an ordinary request, never as a tunnel (#21)`, async (t) => {
      const backend = await startRecordingBackend(t, (socket, head) => {
        if (/^[A-Z]+ /.test(head)) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      })
      const proxy = await proxyFor(t, transport, backend, config)
      const client = dial(t, proxy.url)
      client.write(bytes + blockedThenClose)
      await client.closed
      assert.deepEqual(statuses(client.text()), expected, client.text())
      const received = backend.received()
      assert.equal(requestLines(received).length, 1, received)
      assert.doesNotMatch(received, /^(upgrade|http2-settings):|^connection:.*upgrade|blocked/im)
    })
  }

  test(`${transport}: only the protocols a route allows are asked of the backend (#21)`, async (t) => {
    const backend = await startRecordingBackend(t, (socket, _head, index) => {
      if (index === 0) socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-raw\r\n\r\n')
    })
    const proxy = await proxyFor(t, transport, backend, {
      routes: [{ pool: 'rec', upgrades: ['x-raw'] }],
    })
    const client = dial(t, proxy.url)
    client.write(`${upgradeRequest('h2c, websocket, X-Raw/2')}ping`)
    await backend.until(() => backend.received().endsWith('ping'))
    assert.match(backend.received(), /\r\nupgrade: X-Raw\/2\r\n/)
    assert.doesNotMatch(backend.received(), /^upgrade: .*(h2c|websocket)/im)
  })
}

/**
 * Requests whose framing is broken, each hiding a request to a refused path. Each gets 400 or a
 * closed connection, and not a byte of the hidden request reaches a backend.
 */
const framing: [string, string][] = [
  [
    'Content-Length and Transfer-Encoding together',
    `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'Transfer-Encoding before Content-Length',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 75\r\n\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'two different Content-Lengths',
    `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 0\r\nContent-Length: 75\r\n\r\n${blocked}`,
  ],
  ['a Content-Length list', `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 0, 75\r\n\r\n${blocked}`],
  ['a signed Content-Length', `POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: +75\r\n\r\n${blocked}`],
  [
    'Transfer-Encoding: chunked, identity',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'an obfuscated Transfer-Encoding',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'a space before the colon of Transfer-Encoding',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'Transfer-Encoding folded onto the line before',
    `POST / HTTP/1.1\r\nHost: app.example\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 75\r\n\r\n${blocked}`,
  ],
  [
    'a chunk size that is not hex',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'a negative chunk size',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'a chunk size that overflows',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'a chunk longer than its size',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'a chunk size line ended by a bare LF',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n${blocked}`,
  ],
  [
    'a chunk extension with a bare CR',
    `POST / HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n3;x\ry\r\nabc\r\n0\r\n\r\n${blocked}`,
  ],
  ['a bare CR in a header line', `GET / HTTP/1.1\r\nHost: app.example\r\nX-A: a\rb\r\n\r\n${blocked}`],
  ['a NUL in a header value', `GET / HTTP/1.1\r\nHost: app.example\r\nX-A: a\u0000b\r\n\r\n${blocked}`],
  ['two Host headers', `GET / HTTP/1.1\r\nHost: app.example\r\nHost: evil.example\r\n\r\n${blocked}`],
  [
    'an upgrade with Content-Length and Transfer-Encoding',
    `${upgradeRequest('websocket', 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n')}0\r\n\r\n${blocked}`,
  ],
  [
    'an upgrade with a bad chunk size',
    `${upgradeRequest('websocket', 'Transfer-Encoding: chunked\r\n')}zz\r\nabc\r\n0\r\n\r\n${blocked}`,
  ],
]

for (const transport of transports) {
  for (const [name, bytes] of framing) {
    test(`${transport}: ${name}: 400 or a closed connection, and not a byte of the hidden request reaches a backend`, async (t) => {
      const backend = await startRecordingBackend(t, (socket, head) => {
        if (/^[A-Z]+ /.test(head)) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      })
      const proxy = await proxyFor(t, transport, backend)
      const client = dial(t, proxy.url)
      client.write(bytes)
      await client.closed
      // One answer at most: a 400, or the backend's to the first request when it answered before the
      // broken part was read. The hidden request, had it been read, would have got the route's 403.
      const answered = statuses(client.text())
      assert.ok(answered.length <= 1 && !answered.includes('403'), client.text())
      // A request sent after the client's connection closed: the backend has seen all it will of the first.
      const sentinel = dial(t, proxy.url)
      sentinel.write('GET /sentinel HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n')
      await sentinel.closed
      await backend.until(() => backend.received().includes('/sentinel'))
      assert.doesNotMatch(backend.received(), /blocked|10\.9\.9\.9/)
    })
  }
}

test('with workers: 2, no refused upgrade on any worker lets the bytes after it reach a backend (#21)', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startRecordingBackend(t, (socket, _head, index) => {
    if (index === 0) socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way')
  })
  const config = writeConfig({
    workers: 2,
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { rec: { servers: [backend.address] } },
    routes: [{ match: { path: '/blocked' }, respond: { status: 403 } }, { pool: 'rec' }],
    access_log: { output: 'off' },
  })
  const portico = await spawnPortico(t, ['run', '-c', config], { listeners: 1 })
  await portico.waitFor(/workers started/)
  // Each on a new connection, which the kernel gives to either worker.
  for (let i = 0; i < 20; i++) {
    const client = dial(t, portico.urls[0]!)
    client.write(upgradeRequest() + blocked)
    await client.closed
    assert.deepEqual(statuses(client.text()), ['403'])
  }
  await backend.until(() => backend.open() === 0)
  assert.equal(requestLines(backend.received()).length, 20)
  assert.doesNotMatch(backend.received(), /blocked/)
})
