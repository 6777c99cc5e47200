import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { constants, X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type ConnectionOptions, connect, type PeerCertificate, type TLSSocket } from 'node:tls'
import { promisify } from 'node:util'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { type Pem, TestCa } from '../helpers/certs.ts'
import { rawHttp, request } from '../helpers/http.ts'
import { startPortico, testConfig } from '../helpers/portico.ts'
import { removeWhenDone } from '../helpers/remove-dir.ts'
import { spawnPortico } from '../helpers/spawn.ts'

const run = promisify(execFile)

/** curl against `url`, resolving localhost names to 127.0.0.1; returns the body and the HTTP version used. */
async function curl(url: string, args: string[], ca: string) {
  const { port } = new URL(url)
  const { stdout } = await run('curl', [
    '-sS',
    '--cacert',
    ca,
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    '-D',
    '-',
    '-w',
    '\n%{http_version}',
    ...args,
    `https://localhost:${port}/hello`,
  ])
  const lines = stdout.split('\n')
  return { version: lines.at(-1), text: lines.slice(0, -1).join('\n') }
}

/** Opens a TLS connection and resolves once the handshake is done. */
async function handshake(url: string, options: ConnectionOptions = {}): Promise<TLSSocket> {
  const { port } = new URL(url)
  const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, ...options })
  await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e))])
  return socket
}

/**
 * Connects with `openssl s_client` over TLS 1.2 (with `client`'s certificate if given), asks for a
 * renegotiation (`R`), then sends a request that closes the connection once answered. Resolves with
 * everything s_client printed once it has ended, whichever way the connection ended.
 */
async function renegotiate(url: string, client?: Pem): Promise<string> {
  const { port } = new URL(url)
  const cert = client ? ['-cert', client.cert, '-key', client.key] : []
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', ...cert])
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk))
  const closed = once(child, 'close')
  // s_client reads its input once the handshake is done; a line with `R` alone renegotiates.
  child.stdin.write('R\nGET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n')
  await closed
  return output
}

async function peerName(url: string, servername?: string): Promise<string> {
  const socket = await handshake(url, servername ? { servername } : {})
  const cn = (socket.getPeerCertificate() as PeerCertificate).subject.CN
  socket.destroy()
  return String(cn)
}

test('curl gets answers over HTTP/2 and HTTP/1.1 from one TLS listener, with https forwarding headers', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web', (req, res) => {
    res.setHeader('x-proto-seen', String(req.headers['x-forwarded-proto']))
    res.end(`hello over ${req.httpVersion}`)
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  assert.match(proxy.url, /^https:/)
  const h2 = await curl(proxy.url, ['--http2'], ca.cert)
  assert.equal(h2.version, '2')
  assert.match(h2.text, /^HTTP\/2 200/)
  assert.match(h2.text, /x-proto-seen: https/)
  assert.match(h2.text, /hello over 1\.1$/)
  const h1 = await curl(proxy.url, ['--http1.1'], ca.cert)
  assert.equal(h1.version, '1.1')
  assert.match(h1.text, /^HTTP\/1\.1 200 OK/)
  assert.match(h1.text, /hello over 1\.1$/)
})

test('SNI picks the certificate by exact name, then by wildcard, else the first one', async (t) => {
  const ca = new TestCa(t)
  const fallback = ca.issue('default.test', ['default.test'])
  const exact = ca.issue('api.example.com', ['api.example.com'])
  const wildcard = ca.issue('wildcard.example.com', ['*.example.com'])
  const named = ca.issue('named-in-config', ['ignored.test'])
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [
      {
        address: '127.0.0.1:0',
        tls: { certificates: [fallback, wildcard, exact, { ...named, names: ['config.test'] }] },
      },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  assert.equal(await peerName(proxy.url, 'api.example.com'), 'api.example.com')
  assert.equal(await peerName(proxy.url, 'API.Example.com'), 'api.example.com')
  assert.equal(await peerName(proxy.url, 'www.example.com'), 'wildcard.example.com')
  // A wildcard covers one label only (RFC 6125 §6.4.3).
  assert.equal(await peerName(proxy.url, 'a.b.example.com'), 'default.test')
  assert.equal(await peerName(proxy.url, 'config.test'), 'named-in-config')
  assert.equal(await peerName(proxy.url, 'ignored.test'), 'default.test')
  assert.equal(await peerName(proxy.url, 'other.test'), 'default.test')
  assert.equal(await peerName(proxy.url), 'default.test')
})

test('TLS 1.0 and 1.1 are refused; TLS 1.2 and 1.3 are accepted, and sessions resume', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  // A client willing to speak the old versions, so that only the server can refuse them.
  const old = { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const
  for (const maxVersion of ['TLSv1', 'TLSv1.1'] as const) {
    await assert.rejects(handshake(proxy.url, { ...old, maxVersion }), /protocol|version/i, maxVersion)
  }
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    const socket = await handshake(proxy.url, { ...old, maxVersion, servername: 'localhost' })
    assert.equal(socket.getProtocol(), maxVersion)
    // TLS 1.2 has its session at the handshake; TLS 1.3 sends tickets after it.
    let session: Buffer | undefined = maxVersion === 'TLSv1.2' ? socket.getSession() : undefined
    socket.on('session', (s: Buffer) => (session ??= s))
    socket.write('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n')
    socket.resume()
    await once(socket, 'close')
    assert.ok(session, `a ${maxVersion} session ticket`)
    const again = await handshake(proxy.url, { ...old, maxVersion, servername: 'localhost', session })
    assert.equal(again.isSessionReused(), true, `${maxVersion} session resumed`)
    again.destroy()
  }
})

test('a changed certificate file is served to new connections without a restart; open ones keep going', async (t) => {
  const ca = new TestCa(t)
  const first = ca.issue('first', ['localhost'])
  const second = ca.issue('second', ['localhost'])
  const dir = mkdtempSync(join(tmpdir(), 'portico-reload-'))
  removeWhenDone(t, dir)
  const live = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  copyFileSync(first.cert, live.cert)
  copyFileSync(first.key, live.key)
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [live], reload_poll: '20ms' } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const open = await handshake(proxy.url, { servername: 'localhost' })
  assert.equal((open.getPeerCertificate() as PeerCertificate).subject.CN, 'first')

  copyFileSync(second.key, live.key)
  copyFileSync(second.cert, live.cert)
  // The poll notices the change within a few periods; wait for it, bounded.
  const deadline = Date.now() + 10_000
  let seen = await peerName(proxy.url, 'localhost')
  while (seen !== 'second' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    seen = await peerName(proxy.url, 'localhost')
  }
  assert.equal(seen, 'second')

  open.write('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n')
  const chunks: Buffer[] = []
  open.on('data', (c: Buffer) => chunks.push(c))
  await once(open, 'close')
  assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200 OK[\s\S]*web$/)
})

test('HSTS is sent on the TLS listener, and the plain listener redirects to HTTPS', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', tls: { certificates: [site], hsts: { max_age: 600, include_subdomains: true } } },
      { address: '127.0.0.1:0', redirect_https: { port: 8443 } },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const secure = await curl(proxy.urls[0]!, ['--http2'], ca.cert)
  assert.match(secure.text, /strict-transport-security: max-age=600; includeSubDomains/)
  const plain = await request(`${proxy.urls[1]}/a/b?c=d`, { method: 'POST', headers: { host: 'shop.test' }, body: 'x' })
  assert.equal(plain.status, 308)
  assert.equal(plain.headers.location, 'https://shop.test:8443/a/b?c=d')
  assert.equal(plain.headers['strict-transport-security'], undefined)
})

test('an Upgrade request on a plain listener is redirected to HTTPS with Via and a request id, like every answer (#22)', async (t) => {
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', redirect_https: { port: 8443 } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const answer = await rawHttp(
    proxy.url,
    'GET /chat?room=1 HTTP/1.1\r\nhost: shop.test\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
  )
  const [head = '', body] = answer.split('\r\n\r\n')
  assert.match(head, /^HTTP\/1\.1 308 /)
  assert.match(head, /\r\nlocation: https:\/\/shop\.test:8443\/chat\?room=1\r\n/)
  assert.match(head, /\r\nvia: 1\.1 \S+/)
  assert.match(head, /\r\nx-request-id: \S+/)
  assert.match(head, /\r\nconnection: close/)
  assert.equal(body, '')
})

test('HSTS goes on forwarded and local answers over HTTP/1.1; a backend that sends its own keeps it', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const plain = await startBackend(t, 'plain')
  const own = await startBackend(t, 'own', (_req, res) => {
    res.setHeader('Strict-Transport-Security', 'max-age=5')
    res.end('own')
  })
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', tls: { certificates: [site], hsts: { max_age: 600 } }, http2: { enabled: false } },
    ],
    pools: { plain: { servers: [plain.address] }, own: { servers: [own.address] } },
    routes: [
      { match: { path: '/own' }, pool: 'own' },
      { match: { path: '/hello' }, pool: 'plain' },
    ],
  })
  const headers = async (path: string) => {
    const { port } = new URL(proxy.urls[0]!)
    const { stdout } = await run('curl', [
      '-sS',
      '--http1.1',
      '--cacert',
      ca.cert,
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      '-D',
      '-',
      '-o',
      '/dev/null',
      `https://localhost:${port}${path}`,
    ])
    return stdout
      .toLowerCase()
      .split('\r\n')
      .filter((l) => l.startsWith('strict-transport-security:'))
  }
  assert.deepEqual(await headers('/hello'), ['strict-transport-security: max-age=600'])
  assert.deepEqual(await headers('/nowhere'), ['strict-transport-security: max-age=600'])
  assert.deepEqual(await headers('/own'), ['strict-transport-security: max-age=5'])
})

test('the access log records TLS version, cipher, SNI and ALPN', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: log, format: 'json' },
  })
  await curl(proxy.url, ['--http2'], ca.cert)
  const [line] = await readLogRecords(proxy, log)
  assert.equal(line.tls_version, 'TLSv1.3')
  assert.match(line.tls_cipher!, /^TLS_/)
  assert.equal(line.sni, 'localhost')
  assert.equal(line.alpn, 'h2')
  assert.equal(line.status, 200)
  assert.equal(line.outcome, 'ok')
})

test('`portico cert` writes a self-signed certificate, and the demo serves HTTPS and HTTP/2 with one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cert-'))
  removeWhenDone(t, dir)
  const made = await spawnPortico(t, ['cert', '--out', dir, '--name', 'dev.test'])
  assert.equal(await made.exited, 0)
  assert.match(made.output(), /cert\.pem/)
  assert.equal(new X509Certificate(readFileSync(join(dir, 'cert.pem'))).subject, 'CN=dev.test')

  const demo = await spawnPortico(t, ['run'], { listeners: 2, env: { PORT: '0' } })
  const https = demo.urls.find((u) => u.startsWith('https:'))
  assert.ok(https, demo.output())
  const { stdout } = await run('curl', ['-sSk', '--http2', '-w', ' %{http_version}', `${https}/`])
  assert.match(stdout, /^Hello from demo-[abc]: you asked for GET \/\n 2$/)
  demo.child.kill('SIGTERM')
  assert.equal(await demo.exited, 0)
})

test('a config reload adds a certificate to a running TLS listener', async (t) => {
  const ca = new TestCa(t)
  const first = ca.issue('first.test', ['first.test'])
  const second = ca.issue('second.test', ['second.test'])
  const backend = await startBackend(t, 'web')
  const config = (certificates: Pem[]) => ({
    listeners: [{ address: '127.0.0.1:0', tls: { certificates } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const proxy = await startPortico(t, config([first]))
  assert.equal(await peerName(proxy.url, 'second.test'), 'first.test')
  proxy.reload(testConfig(config([first, second])))
  assert.equal(await peerName(proxy.url, 'second.test'), 'second.test')
  assert.equal(await peerName(proxy.url, 'first.test'), 'first.test')
})

test('a client that asks to renegotiate is refused, on TLS and mTLS listeners (#21)', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const clients = new TestCa(t, 'Client CA')
  const alice = clients.issue('alice')
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', tls: { certificates: [site] } },
      { address: '127.0.0.1:0', tls: { certificates: [site], client_auth: { ca: clients.cert } } },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const [plain, mutual] = proxy.urls as [string, string]
  for (const [url, client] of [[plain], [mutual, alice]] as const) {
    const output = await renegotiate(url, client)
    assert.match(output, /RENEGOTIATING/, 'the handshake was made and renegotiation asked for')
    assert.match(output, /no renegotiation/, 'the server refused it')
    assert.doesNotMatch(output, /HTTP\/1\.1 200/, 'the connection ended at the refusal')
  }
})

test('a TLS 1.2 client without tickets resumes its session by session id (#21)', async (t) => {
  const site = new TestCa(t).issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const noTickets = {
    maxVersion: 'TLSv1.2',
    servername: 'localhost',
    secureOptions: constants.SSL_OP_NO_TICKET,
  } as const
  const first = await handshake(proxy.url, noTickets)
  const session = first.getSession()
  first.destroy()
  for (let i = 0; i < 5; i++) {
    const again = await handshake(proxy.url, { ...noTickets, session })
    assert.equal(again.isSessionReused(), true, `resumption ${i}`)
    again.destroy()
  }
})
