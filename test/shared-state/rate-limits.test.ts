import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { quietListener, spawnInstances, uniquePrefix } from '../helpers/redis.ts'

test('two running instances on one Redis let through one burst between them, whichever a client reaches', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'a')
  const [a, b] = await spawnInstances(t, {
    ...quietListener,
    workers: 1,
    pools: { web: { servers: [backend.address] } },
    redis: { key_prefix: uniquePrefix('rl'), timeout: '5s' },
    routes: [{ pool: 'web', rate_limits: [{ name: 'global', rate: 1, per: '1m', burst: 3, store: 'redis' }] }],
  })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    statuses.push((await get(a!.urls[0]!)).status)
    statuses.push((await get(b!.urls[0]!)).status)
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429])
})
