import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import type { Member } from '../../src/shared-state/members.ts'
import { startBackend } from '../helpers/backend.ts'
import { quietListener, uniquePrefix } from '../helpers/redis.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version

test('every process of every instance in the group is listed with its version and load, and leaves when stopped', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'a')
  const prefix = uniquePrefix('members')
  const config = (workers: number) =>
    writeConfig({
      ...quietListener,
      workers,
      pools: { web: { servers: [backend.address] } },
      redis: { key_prefix: prefix, timeout: '5s', share: ['changes'] },
      routes: [{ pool: 'web' }],
    })
  const one = await spawnPortico(t, ['run', '-c', config(1)], { listeners: 1 })
  const two = await spawnPortico(t, ['run', '-c', config(2)], { listeners: 1 })
  const redis = new Redis({ lazyConnect: true })
  t.after(() => redis.disconnect())
  const members = async () =>
    Object.values(await redis.hgetall(`${prefix}members`)).map((text) => JSON.parse(text) as Member)

  let listed = await members()
  while (listed.length < 3) listed = await members()
  // The one-process instance is its own member; the other is its two workers, not its primary.
  assert.equal(new Set(listed.map((m) => m.id)).size, 3)
  assert.ok(listed.some((m) => m.pid === one.child.pid))
  assert.ok(listed.every((m) => m.pid !== two.child.pid))
  for (const m of listed) {
    assert.equal(m.version, version)
    assert.equal(m.inFlight, 0)
    assert.equal(m.queued, 0)
  }

  one.child.kill('SIGTERM')
  assert.equal(await one.exited, 0)
  listed = await members()
  assert.equal(listed.length, 2, 'the stopped instance left')
  assert.ok(listed.every((m) => m.pid !== one.child.pid))
  two.child.kill('SIGTERM')
  assert.equal(await two.exited, 0)
  assert.deepEqual(await members(), [])
})
