import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testConfig } from '../helpers/portico.ts'

test('a cache block on a route that does not forward is refused', () => {
  assert.throws(
    () => testConfig({ routes: [{ redirect: { to: '/x' }, cache: {} } as never] }),
    /cache applies only to pool and split routes/,
  )
})

test('a cache block gets safe defaults: 64 MiB of memory, nothing stored without freshness, PURGE refused', () => {
  const config = testConfig({ pools: { web: { servers: ['127.0.0.1:1'] } }, routes: [{ pool: 'web', cache: {} }] })
  const cache = config.routes[0]!.cache!
  assert.equal(cache.enabled, true)
  assert.equal(cache.memory, 64 * 1024 * 1024)
  assert.equal(cache.default_ttl, 0)
  assert.deepEqual(cache.purge.allow, [])
  assert.equal(cache.coalesce_timeout, 10_000)
})
