import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import type { EventLog } from '../../src/log/events.ts'
import { startBackend } from '../helpers/backend.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get } from '../helpers/http.ts'
import { startPortico, testConfig } from '../helpers/portico.ts'

/** An event log that keeps what it is told. */
function recordingEvents(): EventLog & { lines: string[] } {
  const lines: string[] = []
  const keep = (level: string) => (message: string, details?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(details ?? {})}`)
  }
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') }
}

test('a backend stopped under steady load fails no request, is taken out, and takes traffic again once it passes rise checks', async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const c = await startBackend(t, 'c')
  const events = recordingEvents()
  const portico = await startPortico(
    t,
    {
      pools: {
        web: {
          servers: [a.address, b.address, c.address],
          health_check: { path: '/', interval: '50ms', timeout: '2s', rise: 2, fall: 2 },
          outlier: { consecutive_failures: 2, base_ejection: '200ms', max_ejection: '400ms' },
        },
      },
      routes: [{ pool: 'web' }],
    },
    events,
  )
  const url = portico.urls[0]!
  const pool = portico.plan().pools.get('web')!
  const serverC = pool.servers[2]!
  // Servers start unknown and take traffic once a check passed: wait for that before the load.
  for (const [i, backend] of [a, b, c].entries()) {
    while (pool.servers[i]!.state.health !== 'healthy') await once(backend.server, 'request')
  }
  const stats = { ok: 0, failed: [] as string[], byBackend: new Map<string, number>() }
  let done: ((value?: unknown) => void) | undefined
  let until: () => boolean = () => false
  const phase = (condition: () => boolean) => {
    until = condition
    return new Promise((resolve) => (done = resolve))
  }
  let running = true
  // Four clients in a loop of GETs: a steady load of idempotent requests.
  const clients = Array.from({ length: 4 }, async () => {
    while (running) {
      const r = await get(url).catch((err: Error) => ({ status: 0, headers: {}, body: err.message }))
      if (r.status === 200) {
        stats.ok++
        const name = (r.headers as Record<string, string>)['x-backend']!
        stats.byBackend.set(name, (stats.byBackend.get(name) ?? 0) + 1)
      } else stats.failed.push(`${r.status} ${r.body}`)
      if (until()) done?.()
    }
  })

  try {
    await phase(() => serverC.state.health === 'healthy' && (stats.byBackend.get('c') ?? 0) > 5)
    const port = c.server.address() as { port: number }
    c.server.closeAllConnections()
    c.server.close()
    await phase(() => serverC.state.health === 'unhealthy')
    // Out by its checks (refused, or reset when a check was on its way as the backend stopped),
    // or ejected by outlier detection first: either way the reason says which and why.
    const { source, detail } = serverC.state.reason!
    assert.match(
      `${source} ${detail}`,
      /^active ECONN(REFUSED|RESET)$|^passive \d+ consecutive failures, last backend_(refused|reset)$/,
    )
    const servedBeforeRestart = stats.byBackend.get('c')!

    c.server.listen(port.port, '127.0.0.1')
    await once(c.server, 'listening')
    await phase(() => (stats.byBackend.get('c') ?? 0) > servedBeforeRestart + 5)
  } finally {
    running = false
    done?.()
    await Promise.all(clients)
  }

  assert.deepEqual(stats.failed, [], 'no client request failed')
  assert.ok(stats.ok > 30)
  assert.equal(serverC.state.health, 'healthy')
  assert.ok(serverC.state.transitions >= 3, 'healthy, unhealthy, healthy again: each change counted')
  const said = events.lines.join('\n')
  assert.match(said, /warn server unhealthy .*"reason":"ECONN(REFUSED|RESET)"/)
  assert.match(said, /info server healthy /)
})

test('passive outlier detection ejects a server that refuses connections, and says why', async (t) => {
  const a = await startBackend(t, 'a')
  const gone = await startBackend(t, 'gone')
  gone.server.close()
  await once(gone.server, 'close')
  const events = recordingEvents()
  const portico = await startPortico(
    t,
    {
      pools: { web: { servers: [a.address, gone.address], outlier: { consecutive_failures: 2, base_ejection: '1m' } } },
      routes: [{ pool: 'web' }],
    },
    events,
  )
  for (let i = 0; i < 6; i++) assert.equal((await get(portico.urls[0]!)).status, 200)
  const state = portico.plan().pools.get('web')!.servers[1]!.state
  assert.ok(state.ejectedUntil > 0, 'ejected')
  assert.equal(state.reason?.source, 'passive')
  assert.match(state.reason!.detail, /2 consecutive failures, last backend_refused/)
  assert.match(events.lines.join('\n'), /warn server ejected .*"ejection_ms":60000/)
})

test('with active checks a server takes no traffic until its first check passes', async (t) => {
  let ready = false
  const a = await startBackend(t, 'a', (req, res) => {
    if (req.headers['user-agent'] === 'portico-health-check' && !ready) res.statusCode = 503
    res.setHeader('x-backend', 'a')
    res.end('a')
  })
  const events = recordingEvents()
  const portico = await startPortico(
    t,
    {
      pools: {
        web: { servers: [a.address], health_check: { interval: '20ms', rise: 1, fall: 1 }, panic_threshold: 0 },
      },
      routes: [{ pool: 'web' }],
    },
    events,
  )
  const state = portico.plan().pools.get('web')!.servers[0]!.state
  assert.notEqual(state.health, 'healthy')
  const refused = await get(portico.urls[0]!)
  assert.equal(refused.status, 503)
  assert.equal(refused.headers['retry-after'], '1')
  ready = true
  while (state.health !== 'healthy') await once(a.server, 'request')
  assert.equal((await get(portico.urls[0]!)).status, 200)
})

test('a reload keeps the health of servers it keeps', async (t) => {
  const a = await startBackend(t, 'a')
  const portico = await startPortico(
    t,
    {
      pools: { web: { servers: [a.address], health_check: { interval: '20ms' } } },
      routes: [{ pool: 'web' }],
    },
    recordingEvents(),
  )
  const state = portico.plan().pools.get('web')!.servers[0]!.state
  while (state.health !== 'healthy') await once(a.server, 'request')
  portico.reload(
    testConfig({
      pools: { web: { servers: [a.address], health_check: { interval: '20ms' } } },
      routes: [{ pool: 'web' }],
    }),
  )
  assert.equal(portico.plan().pools.get('web')!.servers[0]!.state, state)
  assert.equal((await get(portico.urls[0]!)).status, 200)
})

for (const checked of [false, true]) {
  test(`with 2 of 3 servers down and a healthy backup, no request gets a 502${checked ? ', with active checks' : ''} (#21)`, async (t) => {
    const good = await startBackend(t, 'good')
    const backup = await startBackend(t, 'backup')
    const check = checked ? { health_check: { path: '/', interval: '50ms', rise: 1, fall: 1 } } : {}
    const portico = await startPortico(t, {
      pools: {
        web: {
          servers: [await closedPort(), await closedPort(), good.address, { address: backup.address, backup: true }],
          ...check,
        },
      },
      routes: [{ pool: 'web' }],
    })
    const pool = portico.plan().pools.get('web')!
    if (checked) while (pool.servers[2]!.state.health !== 'healthy') await once(good.server, 'request')
    const statuses = new Map<number, number>()
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 30; i++) {
          const { status } = await get(portico.urls[0]!)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
        }
      }),
    )
    assert.deepEqual([...statuses], [[200, 300]])
  })
}
