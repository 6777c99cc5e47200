import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { spawnPortico, writeConfig } from './helpers/spawn.ts'

const german = '85.214.1.1'

/** A shop with routes on host, path, header, cookie and country, in that file order. */
const shop = {
  listeners: [{ address: '127.0.0.1:0' }],
  pools: {
    api: { servers: ['10.0.0.1:3000'] },
    staff: { servers: ['10.0.0.2:3000'] },
    beta: { servers: ['10.0.0.3:3000'] },
    de: { servers: ['10.0.0.4:3000'] },
    shop: { servers: ['10.0.0.5:3000', '10.0.0.6:3000'], balancer: 'ip_hash' },
  },
  routes: [
    { name: 'api', match: { host: 'api.example.com' }, pool: 'api' },
    {
      name: 'staff',
      match: { host: 'shop.example.com', path: '/admin', headers: { 'x-staff': 'yes' } },
      pool: 'staff',
    },
    { name: 'beta', match: { host: 'shop.example.com', cookies: { beta: '1' } }, pool: 'beta' },
    { name: 'germany', match: { host: 'shop.example.com', country: 'DE' }, pool: 'de' },
    {
      name: 'shop',
      match: { host: 'shop.example.com' },
      pool: 'shop',
      rewrite: { strip_prefix: '/shop' },
      request_headers: { set: { 'x-shop': '1' } },
      cache: {},
    },
    { name: 'moved', match: { path: '/old' }, redirect: { to: 'https://example.com/new' } },
  ],
}

async function explain(t: test.TestContext, args: string[]) {
  const p = await spawnPortico(t, ['explain', '-c', writeConfig(shop), ...args])
  const code = await p.exited
  return { code, output: p.output() }
}

describe('portico explain', { concurrency: true, timeout: 60_000 }, () => {
  test('names each earlier route with the first condition that did not hold, then the route, phases, pool and server', async (t) => {
    const { code, output } = await explain(t, [
      'GET http://shop.example.com/shop/cart',
      '-H',
      'Cookie: session=abc',
      '--from',
      '198.51.100.7',
    ])
    assert.equal(code, 0, output)
    const lines = output.split('\n')
    assert.ok(lines.includes('path      /shop/cart'), output)
    assert.ok(lines.includes('route     #0 api: skipped, host "api.example.com" did not hold'), output)
    assert.ok(lines.includes('route     #1 staff: skipped, path "/admin" did not hold'), output)
    assert.ok(lines.includes('route     #2 beta: skipped, cookies.beta "1" did not hold'), output)
    assert.ok(lines.includes('route     #3 germany: skipped, country "DE" did not hold'), output)
    assert.ok(lines.includes('route     #4 shop: taken'), output)
    assert.ok(lines.includes('phases    limits → request_headers'), output)
    assert.ok(lines.includes('cache     the route caches: a fresh stored response answers before the action'), output)
    assert.ok(lines.includes('action    pool shop'), output)
    assert.match(output, /^server {4}10\.0\.0\.[56]:3000$/m)
    assert.ok(lines.includes('backend   /cart'), output)
  })

  test('a header, a cookie and the client address each change the route taken', async (t) => {
    const [staff, beta, germany] = await Promise.all([
      explain(t, ['GET http://shop.example.com/admin/users', '-H', 'X-Staff: yes']),
      explain(t, ['GET http://shop.example.com/admin/users', '-H', 'Cookie: a=b', '-H', 'Cookie: beta=1']),
      explain(t, ['GET http://shop.example.com/', '--from', german]),
    ])
    assert.match(staff.output, /^route {5}#1 staff: taken$/m)
    assert.match(staff.output, /^server {4}10\.0\.0\.2:3000$/m)
    assert.match(beta.output, /^route {5}#1 staff: skipped, headers\.x-staff "yes" did not hold$/m)
    assert.match(beta.output, /^route {5}#2 beta: taken$/m)
    assert.match(germany.output, /from 85\.214\.1\.1 \(country DE\)/)
    assert.match(germany.output, /^route {5}#3 germany: taken$/m)
    assert.match(germany.output, /^server {4}10\.0\.0\.4:3000$/m)
  })

  test('a request no route takes, a local answer, and --json', async (t) => {
    const [none, moved, json] = await Promise.all([
      explain(t, ['POST http://other.example.com/']),
      explain(t, ['GET http://other.example.com/old']),
      explain(t, ['GET http://api.example.com/v1', '--json']),
    ])
    assert.match(none.output, /^route {5}none: no_route/m)
    assert.match(none.output, /^route {5}#5 moved: skipped, path "\/old" did not hold$/m)
    assert.match(moved.output, /^action {4}redirect$/m)
    assert.doesNotMatch(moved.output, /^server/m)
    const e = JSON.parse(json.output)
    assert.deepEqual(
      [e.route, e.action, e.pool, e.server, e.passed],
      [{ index: 0, name: 'api' }, 'pool', 'api', '10.0.0.1:3000', []],
    )
  })

  test('a bad request line or a missing config is a usage error with exit 2', async (t) => {
    const bad = await explain(t, ['GET not-a-url'])
    assert.equal(bad.code, 2)
    assert.match(bad.output, /expected 'METHOD http\(s\):\/\/host\/path'/)
    const p = await spawnPortico(t, ['explain', 'GET http://example.com/'])
    assert.equal(await p.exited, 2)
    assert.match(p.output(), /explain needs -c FILE/)
  })
})
