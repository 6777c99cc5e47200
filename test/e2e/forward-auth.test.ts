import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { connect } from 'node:http2'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

interface Seen {
  readonly auth: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[]
  readonly app: IncomingHttpHeaders[]
}

/**
 * An auth service that decides by the client's `X-Token`: "ok" → 200 naming the user; "login" →
 * 302 to a login page with a cookie; "slow" → never answers; anything else → 401 with a challenge.
 */
function authService(seen: Seen) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      seen.auth.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      const token = req.headers['x-token']
      if (token === 'ok') {
        res.writeHead(204, { 'X-Auth-User': 'alice', 'X-Auth-Groups': 'staff', 'X-Internal': 'not for the pool' })
        res.end()
      } else if (token === 'login') {
        res.writeHead(302, { Location: 'https://login.example/?next=%2Fapp', 'Set-Cookie': 'state=abc; HttpOnly' })
        res.end()
      } else if (token === 'slow') {
        // Holds the request open: the proxy's timeout must decide.
      } else {
        res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="app"', 'Content-Type': 'text/plain' })
        res.end('token required')
      }
    })
  }
}

async function setup(t: TestContext, forward: object = {}, log?: string) {
  const seen: Seen = { auth: [], app: [] }
  const auth = await startBackend(t, 'auth', authService(seen))
  const app = await startBackend(t, 'app', (req, res) => {
    seen.app.push(req.headers)
    req.resume()
    req.on('end', () => res.end('app'))
  })
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    ...(log ? { access_log: { output: log, format: 'json' as const } } : {}),
    pools: { app: { servers: [app.address] } },
    routes: [
      {
        pool: 'app',
        auth: {
          forward: {
            url: `http://${auth.address}/verify`,
            response_headers: ['X-Auth-User', 'X-Auth-Groups'],
            timeout: '300ms',
            ...forward,
          },
        },
      },
    ],
  })
  return { p, seen }
}

test('forward auth: a 2xx lets the request through with the chosen answer headers, replacing what the client claimed', async (t) => {
  const { p, seen } = await setup(t)
  const r = await request(`${p.url}/app/items?q=1`, {
    method: 'POST',
    headers: { 'x-token': 'ok', 'x-auth-user': 'mallory', 'content-type': 'text/plain' },
    body: 'payload',
  })
  assert.equal(r.status, 200)
  assert.equal(r.body, 'app')
  assert.equal(seen.app.length, 1)
  assert.equal(seen.app[0]!['x-auth-user'], 'alice')
  assert.equal(seen.app[0]!['x-auth-groups'], 'staff')
  assert.equal(seen.app[0]!['x-internal'], undefined)
  // The auth service got a GET without the body, with the original request in X-Forwarded-*.
  const asked = seen.auth[0]!
  assert.equal(asked.method, 'GET')
  assert.equal(asked.url, '/verify')
  assert.equal(asked.body, '')
  assert.equal(asked.headers['x-token'], 'ok')
  assert.equal(asked.headers['x-forwarded-method'], 'POST')
  assert.equal(asked.headers['x-forwarded-uri'], '/app/items?q=1')
  assert.equal(asked.headers['x-forwarded-for'], '127.0.0.1')
  assert.equal(asked.headers['x-forwarded-proto'], 'http')
  assert.equal(asked.headers['x-forwarded-host'], new URL(p.url).host)
  assert.equal(asked.headers['content-length'], undefined)
})

test('forward auth: a refusal goes back to the client as the service sent it, and the pool never sees the request', async (t) => {
  const log = accessLogFile(t)
  const { p, seen } = await setup(t, {}, log)
  const denied = await get(`${p.url}/app`, { 'x-token': 'wrong' })
  assert.equal(denied.status, 401)
  assert.equal(denied.body, 'token required')
  assert.equal(denied.headers['www-authenticate'], 'Bearer realm="app"')
  const redirected = await get(`${p.url}/app`, { 'x-token': 'login' })
  assert.equal(redirected.status, 302)
  assert.equal(redirected.headers.location, 'https://login.example/?next=%2Fapp')
  assert.deepEqual(redirected.headers['set-cookie'], ['state=abc; HttpOnly'])
  assert.equal(seen.app.length, 0)
  const records = await readLogRecords(p, log)
  assert.deepEqual(
    records.map((r) => [r.status, r.outcome]),
    [
      [401, 'auth_denied'],
      [302, 'auth_denied'],
    ],
  )
})

test('forward auth: a service slower than its timeout gets 504, one that cannot be reached 502', async (t) => {
  const { p, seen } = await setup(t)
  const started = performance.now()
  const slow = await get(`${p.url}/app`, { 'x-token': 'slow' })
  assert.equal(slow.status, 504)
  assert.ok(performance.now() - started >= 250, 'waited for the timeout')
  const down = await closedPort()
  const q = await startPortico(t, {
    pools: { app: { servers: [down] } },
    routes: [{ pool: 'app', auth: { forward: { url: `http://${down}/verify` } } }],
  })
  const unreachable = await get(q.url)
  assert.equal(unreachable.status, 502)
  assert.equal(unreachable.body, 'Bad Gateway\n')
  assert.equal(seen.app.length, 0)
})

test('forward auth: only the listed request headers go to the service when request_headers is set', async (t) => {
  const { p, seen } = await setup(t, { request_headers: ['X-Token'] })
  assert.equal((await get(`${p.url}/`, { 'x-token': 'ok', cookie: 'sid=1', 'user-agent': 'ua' })).status, 200)
  const asked = seen.auth[0]!.headers
  assert.equal(asked['x-token'], 'ok')
  assert.equal(asked.cookie, undefined)
  assert.equal(asked['user-agent'], undefined)
  assert.equal(asked['x-forwarded-uri'], '/')
})

test('forward auth holds over HTTP/2: allowed requests carry the copied headers, refusals are relayed', async (t) => {
  const { p, seen } = await setup(t)
  const session = connect(p.url)
  t.after(() => session.close())
  const ask = async (token: string) => {
    const stream = session.request({ ':path': '/h2', 'x-token': token, cookie: ['a=1', 'b=2'] })
    const [head] = (await once(stream, 'response')) as [Record<string, string>]
    let body = ''
    stream.setEncoding('utf8')
    for await (const chunk of stream) body += chunk
    return { status: Number(head[':status']), head, body }
  }
  const ok = await ask('ok')
  assert.equal(ok.status, 200)
  assert.equal(ok.body, 'app')
  assert.equal(seen.app[0]!['x-auth-user'], 'alice')
  assert.equal(seen.auth[0]!.headers['x-forwarded-uri'], '/h2')
  // HTTP/2 cookie fields reach the service as the one line HTTP/1.1 allows.
  assert.equal(seen.auth[0]!.headers.cookie, 'a=1; b=2')
  const denied = await ask('nope')
  assert.equal(denied.status, 401)
  assert.equal(denied.body, 'token required')
  assert.equal(denied.head['www-authenticate'], 'Bearer realm="app"')
  const login = await ask('login')
  assert.equal(login.status, 302)
  assert.equal(login.head.location, 'https://login.example/?next=%2Fapp')
  assert.equal(seen.app.length, 1)
})

test('forward auth asks an https:// service, trusting the CA its tls block names', async (t) => {
  const ca = new TestCa(t)
  const pem = ca.issue('auth.test', ['auth.test', '127.0.0.1'])
  const seen: Seen = { auth: [], app: [] }
  const service = createServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key) }, authService(seen))
  service.listen(0, '127.0.0.1')
  await once(service, 'listening')
  t.after(() => {
    service.closeAllConnections()
    service.close()
  })
  const url = `https://127.0.0.1:${(service.address() as AddressInfo).port}/verify`
  const app = await startBackend(t, 'app')
  const p = await startPortico(t, {
    pools: { app: { servers: [app.address] } },
    routes: [
      { match: { path: '/trusted' }, pool: 'app', auth: { forward: { url, tls: { ca: ca.cert } } } },
      { pool: 'app', auth: { forward: { url } } },
    ],
  })
  assert.equal((await get(`${p.url}/trusted`, { 'x-token': 'ok' })).body, 'app')
  assert.equal((await get(`${p.url}/trusted`, { 'x-token': 'no' })).status, 401)
  // Without the CA the service's certificate is not trusted: no verdict, 502.
  assert.equal((await get(`${p.url}/other`, { 'x-token': 'ok' })).status, 502)
  assert.equal(seen.auth.length, 2)
})
