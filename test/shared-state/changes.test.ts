import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentEvents } from '../../src/log/events.ts'
import { RedisChangeChannel } from '../../src/shared-state/changes.ts'
import { RedisLink } from '../../src/shared-state/redis/link.ts'
import { redisSchema } from '../../src/shared-state/redis/schema.ts'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { quietListener, spawnInstances, uniquePrefix } from '../helpers/redis.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

async function bodies(url: string, n: number): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < n; i++) seen.push((await get(url)).body)
  return seen
}

test('a drain published by one instance applies on every instance, one that starts later included, in order', {
  timeout: 90_000,
}, async (t) => {
  const [a, b] = await Promise.all(['a', 'b'].map((n) => startBackend(t, n)))
  const prefix = uniquePrefix('changes')
  const redis = { key_prefix: prefix, timeout: '5s', share: ['changes'] }
  const config = {
    ...quietListener,
    workers: 1,
    pools: { web: { servers: [a!.address, b!.address] } },
    redis,
    routes: [{ pool: 'web' }],
  }
  const [one, two] = await spawnInstances(t, config)
  // The admin API of a third instance, as it publishes a change it has applied to itself.
  const link = new RedisLink(redisSchema.parse(redis), silentEvents)
  t.after(() => link.close())
  const admin = new RedisChangeChannel(link, silentEvents)
  assert.ok(await link.ready(5000))

  const drained = await admin.publish({ kind: 'drain', pool: 'web', server: a!.address, drained: true })
  assert.equal(drained, 1)
  for (const p of [one!, two!]) {
    await p.waitFor(/"msg":"server draining"/)
    assert.deepEqual(await bodies(p.urls[0]!, 4), ['b', 'b', 'b', 'b'])
  }

  const late = await spawnPortico(t, ['run', '-c', writeConfig(config)], { listeners: 1 })
  await late.waitFor(/"msg":"server draining"/)
  assert.deepEqual(await bodies(late.urls[0]!, 4), ['b', 'b', 'b', 'b'])

  assert.equal(await admin.publish({ kind: 'drain', pool: 'web', server: a!.address, drained: false }), 2)
  for (const p of [one!, two!, late]) {
    await p.waitFor(/"msg":"server draining ended"/)
    assert.deepEqual((await bodies(p.urls[0]!, 4)).sort(), ['a', 'a', 'b', 'b'])
  }
})

test('a process that joins late replays what holds now in version order, and never its own changes', {
  timeout: 30_000,
}, async (t) => {
  const config = redisSchema.parse({ key_prefix: uniquePrefix('changes-order'), timeout: '5s', share: ['changes'] })
  const open = async () => {
    const link = new RedisLink(config, silentEvents)
    t.after(() => link.close())
    const channel = new RedisChangeChannel(link, silentEvents)
    const applied: string[] = []
    channel.onChange((c, v) => applied.push(`${v} ${c.kind} ${c.server}`))
    assert.ok(await link.ready(5000))
    return { channel, applied }
  }
  const first = await open()
  await first.channel.publish({ kind: 'add', pool: 'web', server: 'x:1' })
  await first.channel.publish({ kind: 'weight', pool: 'web', server: 'x:1', weight: 5 })
  await first.channel.publish({ kind: 'drain', pool: 'web', server: 'y:1', drained: true })
  await first.channel.publish({ kind: 'weight', pool: 'web', server: 'x:1', weight: 2 })
  await first.channel.publish({ kind: 'remove', pool: 'web', server: 'y:1' })

  const late = await open()
  await late.channel.catchUp()
  // The first weight was replaced by the second; the removal ended what was said of y:1's drain.
  assert.deepEqual(late.applied, ['1 add x:1', '4 weight x:1', '5 remove y:1'])
  assert.equal(late.channel.version, 5)
  assert.deepEqual(first.applied, [])
})
