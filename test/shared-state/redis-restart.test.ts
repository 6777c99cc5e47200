import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { silentEvents } from '../../src/log/events.ts'
import { RedisChangeChannel } from '../../src/shared-state/changes.ts'
import { RedisLink } from '../../src/shared-state/redis/link.ts'
import { redisSchema } from '../../src/shared-state/redis/schema.ts'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startOwnRedis, uniquePrefix } from '../helpers/redis.ts'
import { type SpawnedPortico, spawnPortico, writeConfig } from '../helpers/spawn.ts'

function count(p: SpawnedPortico, pattern: RegExp): number {
  return p
    .output()
    .split('\n')
    .filter((line) => pattern.test(line)).length
}

test('instances that lose Redis keep serving every request, log it once per process, count it, and rejoin by themselves', {
  timeout: 120_000,
}, async (t) => {
  const own = await startOwnRedis(t)
  let n = 0
  const [a, b] = await Promise.all(
    ['a', 'b'].map((name) =>
      startBackend(t, name, (_req, res) => {
        res.setHeader('cache-control', 'max-age=60')
        res.end(`${name} ${++n}`)
      }),
    ),
  )
  const prefix = uniquePrefix('restart')
  const redis = { address: own.address, key_prefix: prefix, timeout: '5s', share: ['sticky', 'cache', 'changes'] }
  const config = (workers: number) => ({
    listeners: [{ address: '127.0.0.1:0' }],
    access_log: { output: 'off' },
    metrics: { address: '127.0.0.1:0' },
    workers,
    pools: { web: { balancer: 'sticky', servers: [a!.address, b!.address] } },
    redis,
    routes: [{ pool: 'web', cache: {}, rate_limits: [{ rate: 10_000, burst: 10_000, store: 'redis' }] }],
  })
  // One instance of one process, one of two workers (each worker has its own connection).
  const one = await spawnPortico(t, ['run', '-c', writeConfig(config(1))], { listeners: 1 })
  const two = await spawnPortico(t, ['run', '-c', writeConfig(config(2))], { listeners: 1 })
  await one.waitFor(/"msg":"sticky pins shared"/)
  await two.waitFor(/"msg":"sticky pins shared"/)
  // The admin API of a third instance, on the same Redis.
  const link = new RedisLink(redisSchema.parse(redis), silentEvents)
  t.after(() => link.close())
  const admin = new RedisChangeChannel(link, silentEvents)
  assert.ok(await link.ready(5000))
  assert.equal(await admin.publish({ kind: 'drain', pool: 'web', server: a!.address, drained: true }), 1)
  await one.waitFor(/"msg":"server draining"/)
  await two.waitFor(/"msg":"server draining"[\s\S]*"msg":"server draining"/)

  const statuses: number[] = []
  let running = true
  const traffic = (async () => {
    for (let i = 0; running; i++) {
      for (const p of [one, two]) statuses.push((await get(`${p.urls[0]}/page?i=${i}`)).status)
    }
  })()
  const served = async (more: number) => {
    const target = statuses.length + more
    while (statuses.length < target) await new Promise((resolve) => setImmediate(resolve))
  }

  await served(10)
  await own.stop()
  await one.waitFor(/Redis store unreachable/)
  await two.waitFor(/Redis store unreachable[\s\S]*Redis store unreachable/)
  await served(20)
  await own.start()
  await one.waitFor(/Redis store reachable again/)
  await two.waitFor(/Redis store reachable again[\s\S]*Redis store reachable again/)
  await served(20)
  running = false
  await traffic

  assert.ok(statuses.length >= 50)
  assert.deepEqual(
    statuses.filter((s) => s !== 200),
    [],
    'no request was lost',
  )
  assert.equal(count(one, /Redis store unreachable/), 1)
  // The primary of the two workers keeps a link of its own, for the admin API's changes and member list.
  assert.equal(count(two, /Redis store unreachable/), 3, 'once per process: each worker and the primary')

  const metricsUrl = (await one.waitFor(/portico metrics on (\S+)/))[1]!
  const metrics = (await get(metricsUrl.endsWith('/metrics') ? metricsUrl : `${metricsUrl}/metrics`)).body
  assert.match(metrics, /^portico_redis_losses_total\{redis="127\.0\.0\.1:\d+"\} 1$/m)
  assert.match(metrics, /^portico_redis_up\{redis="127\.0\.0\.1:\d+"\} 1$/m)

  // The restarted Redis is empty: the instances have announced their sticky pins to it again ...
  const client = new Redis(own.address.replace(/^/, 'redis://'))
  t.after(() => client.disconnect())
  while ((await client.hlen(`${prefix}sticky:web`)) < 4) await new Promise((resolve) => setImmediate(resolve))
  // ... and listen for changes again: versions start again at 1 in the empty Redis, a new history.
  while (!link.up) await new Promise((resolve) => setImmediate(resolve))
  assert.equal(await admin.publish({ kind: 'drain', pool: 'web', server: a!.address, drained: false }), 1)
  await one.waitFor(/"msg":"server draining ended"/)
  await two.waitFor(/"msg":"server draining ended"[\s\S]*"msg":"server draining ended"/)
  assert.match(one.output(), /Redis lost the change history/)
})
