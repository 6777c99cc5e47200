import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'
import { accessPids, config, waitForLine, workerPids } from './output.ts'

test('a worker that dies is replaced and traffic goes on', async (t) => {
  const backend = await startBackend(t, 'a')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(config(backend.address))], { listeners: 1 })
  const [killed, survivor] = await workerPids(p, 'workers started')
  process.kill(killed!, 'SIGKILL')
  await waitForLine(p, (line) => (line.includes('"worker exited, starting another"') ? true : undefined))
  // Connections the dead worker had not accepted died with it; the other worker serves all new ones
  // while the replacement starts.
  for (let i = 0; i < 10; i++) assert.equal((await get(p.urls[0]!)).status, 200)
  const now = await workerPids(p, 'worker started')
  assert.equal(now.length, 2)
  assert.ok(now.includes(survivor!))
  assert.ok(!now.includes(killed!))
  const before = accessPids(p).length
  for (let i = 0; i < 40; i++) assert.equal((await get(p.urls[0]!)).status, 200)
  await waitForLine(p, () => (accessPids(p).length >= before + 40 ? true : undefined))
  assert.deepEqual([...new Set(accessPids(p).slice(before))].sort(), [...now].sort())
})

test('SIGTERM lets requests in flight on every worker finish, then exits 0', async (t) => {
  const held: ServerResponse[] = []
  let arrived: () => void = () => {}
  const backend = await startBackend(t, 'slow', (_req, res) => {
    held.push(res)
    if (held.length === 4) arrived()
  })
  const p = await spawnPortico(t, ['run', '-c', writeConfig(config(backend.address))], { listeners: 1 })
  const pids = await workerPids(p, 'workers started')
  const allArrived = new Promise<void>((resolve) => {
    arrived = resolve
  })
  const replies = Array.from({ length: 4 }, () => get(p.urls[0]!))
  await allArrived
  p.child.kill('SIGTERM')
  await waitForLine(p, (line) => (line.includes('"draining"') ? true : undefined))
  for (const res of held) res.end('done')
  for (const reply of await Promise.all(replies)) assert.deepEqual([reply.status, reply.body], [200, 'done'])
  assert.equal(await p.exited, 0)
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
})
