import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnInstances, uniquePrefix } from '../helpers/redis.ts'

test('a group connection rate holds for a client across two running instances, and refused connections are logged', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'a')
  const [a, b] = await spawnInstances(t, {
    listeners: [{ address: '127.0.0.1:0', connections: { group_rate: { rate: 1, per: '1m', burst: 3 } } }],
    access_log: { output: 'off' },
    workers: 1,
    pools: { web: { servers: [backend.address] } },
    redis: { key_prefix: uniquePrefix('conn'), timeout: '5s' },
    routes: [{ pool: 'web' }],
  })
  const outcomes: string[] = []
  for (let i = 0; i < 3; i++) {
    for (const p of [a!, b!]) {
      outcomes.push(
        await get(p.urls[0]!).then(
          (r) => String(r.status),
          () => 'refused',
        ),
      )
    }
  }
  assert.deepEqual(outcomes, ['200', '200', '200', 'refused', 'refused', 'refused'])
  await b!.waitFor(/"reason":"group_rate".*"msg":"connection refused"/)
})
