import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { connect } from 'node:http2'
import { test } from 'node:test'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

const missing = ['/usr/share/modsecurity-crs/rules'].find((d) => !existsSync(d))
const skip = missing && `${missing} is not installed (apt-get install modsecurity-crs)`
const sqli = `/search?q=${encodeURIComponent("1' or '1'='1")}`

test('in block mode a SQL injection gets 403 naming the request id, never reaches the backend, and is logged with the rule and a cut fragment', {
  skip,
  timeout: 60_000,
}, async (t) => {
  const bodies: string[] = []
  const backend = await startBackend(t, 'b', (req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      bodies.push(body)
      res.end('b')
    })
  })
  const file = accessLogFile(t)
  const p = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', waf: {} }],
    access_log: { output: file, format: 'json' },
  })
  const refused = await get(`${p.url}${sqli}`)
  assert.equal(refused.status, 403)
  assert.equal(refused.body, `Forbidden: request ${refused.headers['x-request-id']}\n`)
  const json = JSON.stringify({ note: 'x', id: '1 UNION SELECT password FROM users' })
  const jsonRefused = await request(`${p.url}/api`, {
    method: 'POST',
    body: json,
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(jsonRefused.status, 403)
  // An ordinary JSON body with SQL words in prose, and a PUT, pass and reach the backend whole.
  const prose = JSON.stringify({ name: "Seán O'Brien", message: 'Please select a size and drop us a line' })
  const passed = await request(`${p.url}/api/orders/1`, {
    method: 'PUT',
    body: prose,
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(passed.status, 200)
  assert.deepEqual(bodies, [prose])
  const lines = await readLogRecords(p, file)
  assert.equal(lines[0]!.outcome, 'waf_blocked')
  assert.match(lines[0]!.waf!, /^blocked by 949110, score \d+: .*942100 ARGS:q "' or '"/)
  assert.equal(lines[1]!.outcome, 'waf_blocked')
  assert.match(lines[1]!.waf!, /ARGS:json\.id/)
  assert.equal(lines[2]!.outcome, 'ok')
})

test('detect_only logs what it would block and passes; exclusions by argument name and rule id let a route accept code in a field', {
  skip,
  timeout: 60_000,
}, async (t) => {
  const file = accessLogFile(t)
  const p = await startPortico(t, {
    pools: {},
    routes: [
      { match: { path: '/watch' }, respond: { body: 'in' }, waf: { mode: 'detect_only' } },
      { match: { path: '/graphql' }, respond: { body: 'in' }, waf: { exclude_args: ['q'] } },
      { match: { path: '/rules' }, respond: { body: 'in' }, waf: { exclude_rules: [942100] } },
      { respond: { body: 'in' }, waf: { mode: 'off' } },
    ],
    access_log: { output: file, format: 'json' },
  })
  assert.equal((await get(`${p.url}/watch${sqli.slice(7)}`)).status, 200)
  assert.equal((await get(`${p.url}/graphql${sqli.slice(7)}`)).status, 200)
  assert.equal((await get(`${p.url}/graphql?other=${encodeURIComponent("1' or '1'='1")}`)).status, 403)
  assert.equal((await get(`${p.url}/rules${sqli.slice(7)}`)).status, 200)
  assert.equal((await get(`${p.url}/off${sqli.slice(7)}`)).status, 200)
  const lines = await readLogRecords(p, file)
  assert.match(lines[0]!.waf!, /^would block by 949110/)
  assert.equal(lines[0]!.outcome, 'ok')
  assert.ok(!lines[1]!.waf?.includes('942100'))
  assert.match(lines[2]!.waf!, /942100 ARGS:other/)
})

test('a cookie value that matches a rule is logged cut to four bytes', { skip, timeout: 60_000 }, async (t) => {
  const file = accessLogFile(t)
  const p = await startPortico(t, {
    pools: {},
    routes: [{ respond: { body: 'in' }, waf: {} }],
    access_log: { output: file, format: 'json' },
  })
  const secret = "' or 1=1-- secret-session-value"
  assert.equal((await get(p.url, { cookie: `sid=${encodeURIComponent(secret)}` })).status, 403)
  const [line] = await readLogRecords(p, file)
  assert.match(line!.waf!, /REQUEST_COOKIES:sid "' or…"/)
  assert.ok(!line!.waf!.includes('secret-session-value'))
})

test('over HTTP/2 the firewall passes an ordinary request and refuses an injection, as over HTTP/1.1', {
  skip,
  timeout: 60_000,
}, async (t) => {
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: {},
    routes: [{ respond: { body: 'in' }, waf: {} }],
  })
  const session = connect(p.url)
  t.after(() => session.close())
  const status = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':path': path, 'user-agent': 'Mozilla/5.0', accept: '*/*' })
      stream.on('response', (h) => resolve(Number(h[':status'])))
      stream.on('error', reject)
      stream.resume()
    })
  assert.equal(await status('/search?q=rock+and+roll'), 200)
  assert.equal(await status(sqli), 403)
})

test('by default prose with a semicolon in a message field passes to the backend; with free_text_fields: [] the same request is refused', {
  skip,
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'b', (req, res) => {
    req.resume()
    req.on('end', () => res.end('b'))
  })
  const p = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      { match: { path: '/stock' }, pool: 'web', waf: { free_text_fields: [] } },
      { pool: 'web', waf: {} },
    ],
  })
  const body = JSON.stringify({ name: 'Ann', message: 'Union members get 10% off; select items only' })
  const send = (path: string) =>
    request(`${p.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  assert.equal((await send('/api/orders')).status, 200)
  assert.equal((await send('/stock')).status, 403)
  const xml = await request(`${p.url}/api/orders`, {
    method: 'POST',
    body: "<order><note>1' UNION SELECT password FROM users --</note></order>",
    headers: { 'content-type': 'application/xml' },
  })
  assert.equal(xml.status, 403)
})
