import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

/** A backend that says what it runs on. */
const talkative = (_req: unknown, res: import('node:http').ServerResponse) => {
  res.setHeader('Server', 'Apache/2.4.1 (Unix)')
  res.setHeader('X-Powered-By', 'PHP/5.6.40')
  res.setHeader('X-AspNet-Version', '4.0.30319')
  res.setHeader('X-Frame-Options', 'ALLOWALL')
  res.end('page')
}

test('X-Powered-By is removed by default, and hide_response_headers removes the fields it lists', async (t) => {
  const backend = await startBackend(t, 'b', talkative)
  const p = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      { match: { path: '/plain' }, pool: 'web' },
      { pool: 'web', hide_response_headers: ['Server', 'x-powered-by', 'X-AspNet-Version'] },
    ],
  })
  const plain = await get(`${p.url}/plain`)
  assert.equal(plain.headers['x-powered-by'], undefined)
  assert.equal(plain.headers.server, 'Apache/2.4.1 (Unix)')
  const hidden = await get(`${p.url}/hidden`)
  assert.equal(hidden.body, 'page')
  assert.equal(hidden.headers.server, undefined)
  assert.equal(hidden.headers['x-powered-by'], undefined)
  assert.equal(hidden.headers['x-aspnet-version'], undefined)
})

test('security_headers sets X-Content-Type-Options, X-Frame-Options, Referrer-Policy and CSP, replacing the backend values', async (t) => {
  const backend = await startBackend(t, 'b', talkative)
  const p = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      {
        pool: 'web',
        security_headers: {
          frame_options: 'DENY',
          referrer_policy: 'no-referrer',
          content_security_policy: "default-src 'self'",
        },
      },
    ],
  })
  const r = await get(p.url)
  assert.equal(r.headers['x-content-type-options'], 'nosniff')
  assert.equal(r.headers['x-frame-options'], 'DENY')
  assert.equal(r.headers['referrer-policy'], 'no-referrer')
  assert.equal(r.headers['content-security-policy'], "default-src 'self'")
})

test('error answers name no backend address and show no stack: refused, reset and timed-out backends', async (t) => {
  const refused = await closedPort()
  // A backend that accepts and resets at once, and one that never answers.
  const reset = createServer((s) => s.destroy()).listen(0, '127.0.0.1')
  const silent = createServer(() => {}).listen(0, '127.0.0.1')
  t.after(() => {
    reset.close()
    silent.close()
  })
  await Promise.all([new Promise((r) => reset.once('listening', r)), new Promise((r) => silent.once('listening', r))])
  const addr = (s: typeof reset) => `127.0.0.1:${(s.address() as import('node:net').AddressInfo).port}`
  const p = await startPortico(t, {
    pools: {
      refused: { servers: [refused] },
      reset: { servers: [addr(reset)] },
      silent: { servers: [addr(silent)], timeouts: { response_headers: '200ms' } },
    },
    routes: [
      { match: { path: '/refused' }, pool: 'refused' },
      { match: { path: '/reset' }, pool: 'reset' },
      { pool: 'silent' },
    ],
  })
  for (const [path, status] of [
    ['/refused', 502],
    ['/reset', 502],
    ['/silent', 504],
  ] as const) {
    const r = await get(`${p.url}${path}`)
    assert.equal(r.status, status, path)
    const shown = `${JSON.stringify(r.headers)}\n${r.body}`
    for (const secret of ['127.0.0.1', refused.split(':')[1]!, addr(reset).split(':')[1]!, addr(silent).split(':')[1]!])
      assert.ok(!shown.includes(secret), `${path} shows ${secret}: ${shown}`)
    assert.doesNotMatch(r.body, /Error|\n\s+at /, path)
  }
})
