import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { type SpawnedPortico, spawnPortico, writeConfig } from '../helpers/spawn.ts'

const config = (server: string) => ({
  listeners: [{ address: '127.0.0.1:0' }],
  pools: { web: { servers: [server] } },
  routes: [{ pool: 'web' }],
  workers: 2,
  access_log: { output: 'stdout', format: 'json' },
})

/** Resolves once the process has written a line for which `match` returns a value; returns that value. */
function waitForLine<T>(p: SpawnedPortico, match: (line: string) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const line of p.output().split('\n')) {
        const found = match(line)
        if (found !== undefined) {
          p.child.stdout!.off('data', onData)
          p.child.stderr!.off('data', onData)
          resolve(found)
          return true
        }
      }
      return false
    }
    // spawnPortico collects output in its own listener, registered first, so the text is there.
    const onData = () => void check()
    if (check()) return
    p.child.stdout!.on('data', onData)
    p.child.stderr!.on('data', onData)
    void p.exited.then((code) => reject(new Error(`portico exited with ${code}:\n${p.output()}`)))
  })
}

function accessPids(p: SpawnedPortico): number[] {
  const pids = []
  for (const line of p.output().split('\n')) if (line.includes('"outcome"')) pids.push(JSON.parse(line).pid as number)
  return pids
}

function workerPids(p: SpawnedPortico, message: string): Promise<number[]> {
  return waitForLine(p, (line) => (line.includes(`"${message}"`) ? (JSON.parse(line).pids as number[]) : undefined))
}

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
