import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { groupJoined, quietListener, spawnInstances, uniquePrefix } from '../helpers/redis.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

/** Resolves once `check` is true, asking again after each answer: for state another process writes. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setImmediate(resolve))
}

test('a response stored by one instance is a hit on another, and a purge on either reaches both, every worker included', {
  timeout: 60_000,
}, async (t) => {
  let fetched = 0
  const backend = await startBackend(t, 'a', (_req, res) => {
    fetched++
    res.setHeader('cache-control', 'max-age=60')
    res.end(`v${fetched}`)
  })
  const prefix = uniquePrefix('cache')
  const [a, b] = await spawnInstances(t, {
    ...quietListener,
    workers: 2,
    pools: { web: { servers: [backend.address] } },
    redis: { key_prefix: prefix, timeout: '5s', share: ['cache'] },
    routes: [{ name: 'site', pool: 'web', cache: { purge: { allow: ['127.0.0.1'] } } }],
  })
  const redis = new Redis({ lazyConnect: true })
  t.after(() => redis.disconnect())
  // Both connected and listening: a response stored before would reach only the instance's own tiers.
  await groupJoined(prefix, 4)

  const first = await get(`${a!.urls[0]}/page`)
  assert.equal(first.body, 'v1')
  await until(async () => (await redis.hlen(`${prefix}cache-index`)) > 0)

  const other = await get(`${b!.urls[0]}/page`)
  assert.equal(other.body, 'v1', 'the other instance answers from the shared tier')
  assert.match(other.headers['cache-status'] as string, /hit/)
  assert.equal(fetched, 1)
  assert.equal((await get(`${b!.urls[0]}/page`)).body, 'v1', 'and again, from whichever tier of whichever worker')

  const purged = await request(`${b!.urls[0]}/page`, { method: 'PURGE' })
  assert.equal(purged.status, 200)
  // Each worker of the first instance hears it.
  await a!.waitFor(/purge from another instance applied[\s\S]*purge from another instance applied/)
  const after = await get(`${a!.urls[0]}/page`)
  assert.equal(after.body, 'v2', 'the purge reached the first instance and the shared tier')
  assert.equal(fetched, 2)
})

test('a hit in the shared tier is promoted to the disk tier of the instance that found it', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.setHeader('cache-control', 'max-age=60')
    res.end('body')
  })
  const prefix = uniquePrefix('cache-disk')
  const config = (disk: string) => ({
    ...quietListener,
    workers: 1,
    pools: { web: { servers: [backend.address] } },
    redis: { key_prefix: prefix, timeout: '5s', share: ['cache'] },
    routes: [{ name: 'site', pool: 'web', cache: { disk: { path: disk } } }],
  })
  const disks = [mkdtempSync(join(tmpdir(), 'portico-disk-')), mkdtempSync(join(tmpdir(), 'portico-disk-'))]
  const [a, b] = await Promise.all(
    disks.map((d) => spawnPortico(t, ['run', '-c', writeConfig(config(d))], { listeners: 1 })),
  )
  const redis = new Redis({ lazyConnect: true })
  t.after(() => redis.disconnect())
  await groupJoined(prefix, 2)

  await get(`${a!.urls[0]}/file`)
  await until(async () => (await redis.hlen(`${prefix}cache-index`)) > 0)
  assert.deepEqual(readdirSync(disks[1]!), [])
  const found = await get(`${b!.urls[0]}/file`)
  assert.match(found.headers['cache-status'] as string, /hit/)
  await until(async () => readdirSync(disks[1]!).some((name) => /^[0-9a-f]{64}$/.test(name)))
})
