import assert from 'node:assert/strict'
import { test } from 'node:test'
import { adminConfig, startAdminPortico } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'

test('POST /explain answers against the running config, changes made through the API included', {
  timeout: 90_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const config = adminConfig([a.address], 1, {
    routes: [
      { name: 'api', match: { host: 'api.example.com' }, respond: { status: 204 } },
      { name: 'web', match: { cookies: { session: true } }, pool: 'web' },
    ],
  })
  const { call } = await startAdminPortico(t, config)
  const request = {
    method: 'GET',
    url: 'http://shop.example.com/cart',
    headers: { cookie: 'session=1' },
    from: '10.0.0.9',
  }
  const first = await call('POST', '/explain', request)
  assert.equal(first.status, 200)
  assert.deepEqual(first.body.passed, [
    { index: 0, name: 'api', failed: { condition: 'host', expected: 'api.example.com' } },
  ])
  assert.deepEqual([first.body.route.name, first.body.pool, first.body.server], ['web', 'web', a.address])
  assert.equal(first.body.request.client, '10.0.0.9')

  assert.equal((await call('POST', '/pools/web/servers', { address: b.address })).status, 201)
  assert.equal((await call('DELETE', `/pools/web/servers/${a.address}?deadline_ms=5000`)).status, 200)
  const after = await call('POST', '/explain', request)
  assert.equal(after.body.server, b.address)

  const without = await call('POST', '/explain', { url: 'http://shop.example.com/cart' })
  assert.equal(without.body.route, null)
  assert.equal(without.body.action, 'no_route')
  assert.equal((await call('POST', '/explain', { url: 'ftp://x/' })).status, 400)
})
