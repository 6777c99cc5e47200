import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createSecureServer } from 'node:http2'
import { createServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { type Pem, TestCa } from '../helpers/certs.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

/** An HTTPS backend with `site` that requires a client certificate from `clientCa`, and answers with its subject. */
async function startMtlsBackend(t: TestContext, site: Pem, clientCa: string): Promise<string> {
  const server = createServer(
    {
      cert: readFileSync(site.cert),
      key: readFileSync(site.key),
      ca: readFileSync(clientCa),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate() as PeerCertificate
      res.end(`hello ${peer.subject.CN}`)
    },
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

test('a pool talks mTLS to a backend that requires a client certificate, and verifies the backend', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('backend.internal', ['backend.internal'])
  const proxyCert = ca.issue('portico-client')
  const backend = await startMtlsBackend(t, site, ca.cert)
  const other = new TestCa(t, 'Someone Else')
  const proxy = await startPortico(t, {
    pools: {
      mtls: { servers: [backend], tls: { ca: ca.cert, server_name: 'backend.internal', ...proxyCert } },
      nocert: { servers: [backend], tls: { ca: ca.cert, server_name: 'backend.internal' } },
      untrusted: { servers: [backend], tls: { ca: other.cert, server_name: 'backend.internal', ...proxyCert } },
      wrongname: { servers: [backend], tls: { ca: ca.cert, server_name: 'elsewhere.internal', ...proxyCert } },
    },
    routes: ['mtls', 'nocert', 'untrusted', 'wrongname'].map((pool) => ({ match: { path: `/${pool}` }, pool })),
  })
  const ok = await get(`${proxy.url}/mtls`)
  assert.equal(ok.status, 200)
  assert.equal(ok.body, 'hello portico-client')
  for (const pool of ['nocert', 'untrusted', 'wrongname']) {
    assert.equal((await get(`${proxy.url}/${pool}`)).status, 502, pool)
  }
})

test('tls.verify: false reaches a backend with any certificate, and warns at start', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('self.internal', ['self.internal'])
  const backend = await startMtlsBackend(t, site, ca.cert)
  const warnings: string[] = []
  const events = { info() {}, error() {}, warn: (message: string) => void warnings.push(message) }
  const proxy = await startPortico(
    t,
    {
      pools: { any: { servers: [backend], tls: { verify: false, ...ca.issue('client') } } },
      routes: [{ pool: 'any' }],
    },
    events,
  )
  assert.equal((await get(proxy.urls[0]!)).body, 'hello client')
  assert.equal(warnings.length, 1)
  assert.match(warnings[0]!, /not verified/)
})

/** An HTTPS GET to `url` for host `localhost`, with a client certificate when `client` is given. */
function httpsGet(
  url: string,
  ca: string,
  client?: Pem,
  headers?: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca: readFileSync(ca),
        servername: 'localhost',
        agent: false,
        headers,
        ...(client && { cert: readFileSync(client.cert), key: readFileSync(client.key) }),
      },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

test('a listener that requires client certificates refuses clients without one, logs the subject and forwards it', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const clients = new TestCa(t, 'Client CA')
  const alice = clients.issue('alice')
  const stranger = new TestCa(t, 'Stranger CA').issue('mallory')
  const backend = await startBackend(t, 'web', (req, res) => res.end(`xfcc=${req.headers['x-forwarded-client-cert']}`))
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', tls: { certificates: [site], client_auth: { ca: clients.cert } } },
      { address: '127.0.0.1:0', tls: { certificates: [site], client_auth: { ca: clients.cert, required: false } } },
    ],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: log, format: 'json' },
  })
  const [required, optional] = proxy.urls as [string, string]
  const fingerprint = new X509Certificate(readFileSync(alice.cert)).fingerprint256.replaceAll(':', '').toLowerCase()
  assert.equal(
    (await httpsGet(required, ca.cert, alice)).body,
    `xfcc=Hash=${fingerprint};Subject="O=Portico Tests,CN=alice"`,
  )
  await assert.rejects(httpsGet(required, ca.cert), /certificate|handshake|socket hang up|ECONNRESET/i)
  await assert.rejects(httpsGet(required, ca.cert, stranger), /certificate|handshake|socket hang up|ECONNRESET|alert/i)
  // Without a certificate, a client's own X-Forwarded-Client-Cert never reaches the backend.
  const forged = await httpsGet(optional, ca.cert, undefined, { 'x-forwarded-client-cert': 'Subject="CN=admin"' })
  assert.equal(forged.body, 'xfcc=undefined')

  const lines = await readLogRecords(proxy, log)
  assert.equal(lines[0]?.client_subject, 'O=Portico Tests,CN=alice')
  assert.equal(lines[1]?.client_subject, undefined)
})

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`a backend that demands a client certificate Portico does not send gives 502 backend_tls, never 500, over ${version} (#21)`, async (t) => {
    const ca = new TestCa(t)
    const site = ca.issue('backend.internal', ['backend.internal'])
    const tls = {
      cert: readFileSync(site.cert),
      key: readFileSync(site.key),
      ca: readFileSync(ca.cert),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: version,
      maxVersion: version,
    }
    const h1 = createServer(tls, (_req, res) => res.end('never'))
    const h2 = createSecureServer({ ...tls, allowHTTP1: true }, (_req, res) => res.end('never'))
    for (const server of [h1, h2]) {
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      t.after(() => server.close())
    }
    t.after(() => h1.closeAllConnections())
    const address = (s: { address(): unknown }) => `127.0.0.1:${(s.address() as AddressInfo).port}`
    const log = accessLogFile(t)
    const pool = { tls: { ca: ca.cert, server_name: 'backend.internal' } }
    const proxy = await startPortico(t, {
      access_log: { output: log, format: 'json' },
      pools: {
        http1: { servers: [address(h1)], ...pool },
        h2: { servers: [address(h2)], protocol: 'h2', ...pool },
      },
      routes: [{ match: { path: '/h2' }, pool: 'h2' }, { pool: 'http1' }],
    })
    const statuses = []
    for (const path of ['/', '/', '/', '/h2', '/h2', '/h2']) statuses.push((await get(`${proxy.url}${path}`)).status)
    assert.deepEqual(statuses, [502, 502, 502, 502, 502, 502])
    const records = await readLogRecords(proxy, log)
    // Over HTTP/2 and TLS 1.3 the alert ends a connection undici keeps: the request then fails as
    // on a stale connection and is tried once more on a fresh one, which meets the alert again.
    assert.deepEqual(
      records.map((r) => r.outcome),
      Array(6).fill('backend_tls'),
    )
  })
}
