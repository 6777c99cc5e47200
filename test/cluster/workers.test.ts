import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'
import { accessPids, config, waitForLine, workerPids } from './output.ts'

test('workers: 2 runs two processes that both serve the same port', async (t) => {
  const backend = await startBackend(t, 'a')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(config(backend.address))], { listeners: 1 })
  const pids = await workerPids(p, 'workers started')
  assert.equal(new Set(pids).size, 2)
  // Each request on a new connection: the kernel spreads connections, so 40 reach both workers.
  for (let i = 0; i < 40; i++) assert.equal((await get(p.urls[0]!)).body, 'a')
  await waitForLine(p, () => (accessPids(p).length >= 40 ? true : undefined))
  assert.deepEqual([...new Set(accessPids(p))].sort(), [...pids].sort())
})

test('SIGHUP reloads the config in every worker', async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const file = writeConfig(config(a.address))
  const p = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  await workerPids(p, 'workers started')
  writeFileSync(file, stringify(config(b.address)))
  p.child.kill('SIGHUP')
  await waitForLine(p, (line) => (line.includes('"config reloaded"') ? true : undefined))
  const before = accessPids(p).length
  for (let i = 0; i < 40; i++) assert.equal((await get(p.urls[0]!)).body, 'b')
  await waitForLine(p, () => (accessPids(p).length >= before + 40 ? true : undefined))
  assert.equal(new Set(accessPids(p).slice(before)).size, 2)
})

test('a listener address in use stops every worker and exits 3', async (t) => {
  const taken = await startBackend(t, 'taken')
  const p = await spawnPortico(t, [
    'run',
    '-c',
    writeConfig({ ...config(taken.address), listeners: [{ address: taken.address }] }),
  ])
  assert.equal(await p.exited, 3)
  assert.match(p.output(), /could not start: .*EADDRINUSE/)
})
