import assert from 'node:assert/strict'
import { Agent, request as httpRequest, type ServerResponse } from 'node:http'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { type SpawnedPortico, spawnPortico, writeConfig } from '../helpers/spawn.ts'
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

/** One request through `agent`, which keeps its connection alive; resolves with the status, or 0 when it failed. */
function keepAliveGet(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
      res.on('error', () => resolve(0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

/** The pid of each access log line `p` writes from now on, in order, read as the lines come. */
function pidsFromNow(p: SpawnedPortico): { readonly pids: number[]; reached(n: number): Promise<void> } {
  const pids: number[] = []
  const waiters = new Set<() => void>()
  let rest = ''
  p.child.stdout!.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString()
    const end = text.lastIndexOf('\n') + 1
    rest = text.slice(end)
    for (const m of text.slice(0, end).matchAll(/^\{.*"pid":(\d+).*"outcome".*$/gm)) pids.push(Number(m[1]))
    for (const check of waiters) check()
  })
  const reached = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (pids.length < n) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    })
  return { pids, reached }
}

test('after a worker crash, keep-alive clients spread over the replacement again once it is ready (#21)', {
  timeout: 90_000,
}, async (t) => {
  const backend = await startBackend(t, 'a')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(config(backend.address))], { listeners: 1 })
  const [killed, survivor] = await workerPids(p, 'workers started')
  const log = pidsFromNow(p)
  let running = true
  let failed = 0
  const agents = Array.from({ length: 50 }, () => new Agent({ keepAlive: true, maxSockets: 1 }))
  t.after(() => {
    running = false
    for (const agent of agents) agent.destroy()
  })
  const loops = agents.map(async (agent) => {
    while (running) if ((await keepAliveGet(p.urls[0]!, agent)) !== 200) failed++
  })
  await log.reached(500)
  process.kill(killed!, 'SIGKILL')
  // The survivor takes every client that lost its connection, while the replacement starts.
  const now = await workerPids(p, 'worker started')
  const replacement = now.find((pid) => pid !== survivor)!
  const from = log.pids.length
  await log.reached(from + 1000)
  running = false
  await Promise.all(loops)
  // Each client's first request after the replacement is ready may still go to the survivor, on
  // the connection it has; that response says Connection: close, and the client reconnects.
  const after = log.pids.slice(from + 100)
  const share = after.filter((pid) => pid === replacement).length / after.length
  assert.ok(share > 0.2, `the replacement served ${Math.round(share * 100)}% of requests after it started`)
  // Only requests in flight on the killed worker's connections fail.
  assert.ok(failed <= 50, `${failed} failed requests`)
})
