import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { quietListener, uniquePrefix } from '../helpers/redis.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

test('a server one instance finds down is avoided by another until its own checks bring it back', {
  timeout: 60_000,
}, async (t) => {
  // Server a fails the first instance's check path only: the second instance's checks find it healthy.
  const a = await startBackend(t, 'a', (req, res) => {
    res.statusCode = req.url === '/check-one' ? 503 : 200
    res.end('a')
  })
  const b = await startBackend(t, 'b')
  const prefix = uniquePrefix('health')
  const config = (path: string, interval: string) =>
    writeConfig({
      ...quietListener,
      workers: 1,
      pools: { web: { servers: [a.address, b.address], health_check: { path, interval, rise: 2 } } },
      redis: { key_prefix: prefix, timeout: '5s', share: ['health'] },
      routes: [{ pool: 'web' }],
    })
  const two = await spawnPortico(t, ['run', '-c', config('/check-two', '3s')], { listeners: 1 })
  await two.waitFor(/"msg":"server healthy"[\s\S]*"msg":"server healthy"/)
  const one = await spawnPortico(t, ['run', '-c', config('/check-one', '1s')], { listeners: 1 })
  await one.waitFor(/"msg":"server unhealthy"/)

  await two.waitFor(/found down by another instance.*"msg":"server unhealthy"/)
  const during: string[] = []
  for (let i = 0; i < 4; i++) during.push((await get(two.urls[0]!)).body)
  assert.deepEqual(during, ['b', 'b', 'b', 'b'])

  // Two passing checks of its own (rise: 2) bring it back on the second instance only.
  await two.waitFor(/"msg":"server unhealthy"[\s\S]*"msg":"server healthy"/)
  const after: string[] = []
  for (let i = 0; i < 4; i++) after.push((await get(two.urls[0]!)).body)
  assert.deepEqual(after.sort(), ['a', 'a', 'b', 'b'])
  for (let i = 0; i < 4; i++) assert.equal((await get(one.urls[0]!)).body, 'b')
})
