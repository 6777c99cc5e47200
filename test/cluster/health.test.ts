import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'
import { config, lines, waitForLine, workerPids } from './output.ts'

const intervalMs = 200

/**
 * A backend that answers traffic with its name and counts the health checks it gets on /health,
 * passing them while `healthy` is true.
 */
async function checkedBackend(t: TestContext, name: string) {
  const probes: number[] = []
  const waiting: (() => void)[] = []
  const backend = {
    healthy: true,
    probes,
    /** Resolves once the backend has had `count` checks in all. */
    probed(count: number): Promise<void> {
      return new Promise((resolve) => {
        const check = () => (probes.length >= count ? resolve() : waiting.push(check))
        check()
      })
    },
    ...(await startBackend(t, name, (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/health') {
        probes.push(performance.now())
        res.statusCode = backend.healthy ? 200 : 503
        res.end()
        for (const check of waiting.splice(0)) check()
        return
      }
      res.setHeader('x-backend', name)
      res.end(name)
    })),
  }
  return backend
}

/** Two workers in front of `servers`, checked on /health every 200 ms. */
function checkedConfig(servers: string[]) {
  const base = config(servers[0]!)
  return {
    ...base,
    pools: {
      web: {
        balancer: 'round_robin',
        servers,
        health_check: { path: '/health', interval: `${intervalMs}ms`, timeout: '2s', rise: 1, fall: 1 },
      },
    },
  }
}

/** The access log records written so far: worker pid and the server each request went to. */
function served(output: string): { pid: number; server: string }[] {
  return lines(output)
    .filter((l) => l.includes('"outcome"'))
    .map((l) => JSON.parse(l) as { pid: number; server: string })
}

test('with workers: 2 a server gets one health check per interval, not one per worker', async (t) => {
  const a = await checkedBackend(t, 'a')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(checkedConfig([a.address]))], { listeners: 1 })
  await workerPids(p, 'workers started')
  const from = a.probes.length
  await a.probed(from + 6)
  const gaps = a.probes.slice(from).map((at, i, all) => (i === 0 ? Number.POSITIVE_INFINITY : at - all[i - 1]!))
  // Two checking workers would send two checks per interval: some gap would be half an interval or less.
  assert.ok(
    gaps.every((gap) => gap >= intervalMs * 0.6),
    `gaps between checks: ${gaps.slice(1).map(Math.round).join(', ')} ms`,
  )
})

test('a server that fails its check stops getting traffic from every worker, and the change is logged once', async (t) => {
  const a = await checkedBackend(t, 'a')
  const b = await checkedBackend(t, 'b')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(checkedConfig([a.address, b.address]))], {
    listeners: 1,
  })
  const pids = await workerPids(p, 'workers started')
  // Servers start unknown and take no traffic until checked: wait for both verdicts.
  await waitForLine(p, () => ((p.output().match(/"server healthy"/g)?.length ?? 0) >= 2 ? true : undefined))
  await a.probed(a.probes.length + 1)
  // Each request on a new connection: the kernel spreads connections, so 40 reach both workers.
  for (let i = 0; i < 40; i++) await get(p.urls[0]!)
  await waitForLine(p, () => (served(p.output()).length >= 40 ? true : undefined))
  const before = served(p.output())
  assert.deepEqual(new Set(before.map((r) => r.pid)), new Set(pids))
  for (const pid of pids) {
    const servers = new Set(before.filter((r) => r.pid === pid).map((r) => r.server))
    assert.deepEqual(servers, new Set([a.address, b.address]), `worker ${pid} sends to both servers while both pass`)
  }

  a.healthy = false
  await waitForLine(p, (line) => (line.includes('"server unhealthy"') ? true : undefined))
  // The verdict travels from the leader through the primary to the other worker: it has long
  // arrived by the next check.
  await a.probed(a.probes.length + 1)
  for (let i = 0; i < 40; i++) assert.equal((await get(p.urls[0]!)).body, 'b')
  await waitForLine(p, () => (served(p.output()).length >= 80 ? true : undefined))
  const after = served(p.output()).slice(40)
  assert.deepEqual(new Set(after.map((r) => r.pid)), new Set(pids), 'both workers served')
  assert.deepEqual(new Set(after.map((r) => r.server)), new Set([b.address]))
  assert.equal(p.output().match(/"server unhealthy"/g)?.length, 1, 'logged by the leader only')
})
