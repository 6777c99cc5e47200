import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import test, { type TestContext } from 'node:test'
import type { ConfigInput } from '../../src/config/schema.ts'
import type { EventLog } from '../../src/log/events.ts'
import { startBackend } from '../helpers/backend.ts'
import { freePort } from '../helpers/free-port.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

/** An event log that keeps what it is told and tells waiters when a message matches. */
function recordingEvents() {
  const lines: string[] = []
  const waiters = new Set<() => void>()
  const line = (message: string) => {
    lines.push(message)
    for (const w of waiters) w()
  }
  const events: EventLog = { info: line, warn: line, error: line }
  const waitFor = (pattern: RegExp, after = 0) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (lines.slice(after).some((l) => pattern.test(l))) {
          waiters.delete(check)
          resolve()
        }
      }
      waiters.add(check)
      check()
    })
  return { events, lines, waitFor }
}

type LimitInput = NonNullable<NonNullable<ConfigInput['routes']>[number]['rate_limits']>[number]

async function setup(t: TestContext, limit: LimitInput, events?: EventLog) {
  const backend = await startBackend(t, 'a')
  return startPortico(
    t,
    {
      pools: { web: { servers: [backend.address] } },
      routes: [{ name: 'api', pool: 'web', rate_limits: [limit] }],
    },
    events,
  )
}

test('a client over its rate gets 429 with Retry-After, RateLimit-Policy and RateLimit', async (t) => {
  const proxy = await setup(t, { name: 'per_client', rate: 1, per: '1m', burst: 2, store: 'local' })
  assert.equal((await get(proxy.url)).status, 200)
  assert.equal((await get(proxy.url)).status, 200)
  const refused = await get(proxy.url)
  assert.equal(refused.status, 429)
  assert.equal(refused.body, 'Too Many Requests\n')
  assert.equal(refused.headers['ratelimit-policy'], '"per_client";q=2;w=120')
  assert.match(String(refused.headers.ratelimit), /^"per_client";r=0;t=1[12]\d$/)
  const retry = Number(refused.headers['retry-after'])
  assert.ok(retry > 50 && retry <= 60, `Retry-After ${retry}`)
})

test('answers a limit lets through carry RateLimit-Policy and RateLimit with what is left, one item per limit', async (t) => {
  const backend = await startBackend(t, 'a')
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      {
        match: { path: '/two' },
        pool: 'web',
        rate_limits: [
          { name: 'minute', rate: 3, per: '1m', burst: 3, store: 'local' },
          { name: 'hour', rate: 100, per: '1h', burst: 10, store: 'local' },
          { name: 'watch', rate: 1, per: '1h', action: 'shadow', store: 'local' },
        ],
      },
      { match: { path: '/quiet' }, pool: 'web', rate_limits: [{ rate: 1, per: '1m', headers: false, store: 'local' }] },
      { pool: 'web', rate_limits: [{ name: 'solo', rate: 1, per: '1m', burst: 2, store: 'local' }] },
    ],
  })
  const first = await get(`${proxy.url}/solo`)
  assert.equal(first.status, 200)
  assert.equal(first.headers['ratelimit-policy'], '"solo";q=2;w=120')
  assert.equal(first.headers.ratelimit, '"solo";r=1;t=60')
  assert.equal((await get(`${proxy.url}/solo`)).headers.ratelimit, '"solo";r=0;t=120')
  assert.equal((await get(`${proxy.url}/solo`)).status, 429)
  const both = await get(`${proxy.url}/two`)
  assert.equal(both.headers['ratelimit-policy'], '"minute";q=3;w=60, "hour";q=10;w=360')
  assert.equal(both.headers.ratelimit, '"minute";r=2;t=20, "hour";r=9;t=36')
  const quiet = await get(`${proxy.url}/quiet`)
  assert.equal(quiet.status, 200)
  assert.equal(quiet.headers['ratelimit-policy'], undefined)
  assert.equal(quiet.headers.ratelimit, undefined)
})

test('a limit keyed by a header counts each value apart', async (t) => {
  const proxy = await setup(t, { key: ['header:x-api-key'], rate: 1, per: '1m', burst: 1, store: 'local' })
  assert.equal((await get(proxy.url, { 'x-api-key': 'one' })).status, 200)
  assert.equal((await get(proxy.url, { 'x-api-key': 'one' })).status, 429)
  assert.equal((await get(proxy.url, { 'x-api-key': 'two' })).status, 200)
  // Requests without the header share one count of their own.
  assert.equal((await get(proxy.url)).status, 200)
  assert.equal((await get(proxy.url)).status, 429)
})

test('a delaying limit holds requests beyond the steady rate until their turn, and refuses beyond the burst', async (t) => {
  const proxy = await setup(t, { rate: 10, burst: 3, action: 'delay', store: 'local' })
  const start = performance.now()
  const took = async () => {
    const r = await get(proxy.url)
    return [r.status, performance.now() - start] as const
  }
  const replies = await Promise.all([took(), took(), took(), took()])
  const statuses = replies.map(([s]) => s).sort()
  assert.deepEqual(statuses, [200, 200, 200, 429])
  // The third of three at once waits two intervals of 100 ms.
  const slowest = Math.max(...replies.filter(([s]) => s === 200).map(([, ms]) => ms))
  assert.ok(slowest >= 180, `slowest ${slowest} ms`)
})

test('a shadow limit lets every request through and logs that it was exceeded', async (t) => {
  const log = recordingEvents()
  const proxy = await setup(
    t,
    { name: 'watch', rate: 1, per: '1m', burst: 1, action: 'shadow', store: 'local' },
    log.events,
  )
  for (let i = 0; i < 4; i++) assert.equal((await get(proxy.url)).status, 200)
  assert.equal(log.lines.filter((l) => /rate limit exceeded \(shadow/.test(l)).length, 1)
})

test('with two workers a machine limit is one count: the total accepted stays within rate × time + burst', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'a')
  const config = {
    workers: 2,
    listeners: [{ address: '127.0.0.1:0' }],
    access_log: { output: 'off' },
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', rate_limits: [{ rate: 2, burst: 5, store: 'machine' as const }] }],
  }
  const p = await spawnPortico(t, ['run', '-c', writeConfig(config)], { listeners: 1 })
  const start = performance.now()
  let accepted = 0
  // Each request on a new connection: the kernel spreads connections over both workers.
  for (let round = 0; round < 10; round++) {
    const replies = await Promise.all(Array.from({ length: 4 }, () => get(p.urls[0]!)))
    accepted += replies.filter((r) => r.status === 200).length
  }
  const seconds = (performance.now() - start) / 1000
  assert.ok(accepted >= 5, `accepted ${accepted}`)
  assert.ok(accepted <= 5 + Math.ceil(2 * seconds), `accepted ${accepted} in ${seconds} s`)
})

/** Starts a redis-server of this test's own on `port`; resolves once it accepts connections. */
async function startRedis(t: TestContext, port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  t.after(() => child.kill('SIGKILL'))
  let text = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk
      if (/Ready to accept connections/.test(text)) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${text}`)))
  })
  return child
}

async function stopRedis(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL')
  await once(child, 'exit')
}

test('two instances on one Redis accept together no more than rate × time + burst', { timeout: 30_000 }, async (t) => {
  const backend = await startBackend(t, 'a')
  const config = {
    pools: { web: { servers: [backend.address] } },
    redis: { key_prefix: `portico-test:${process.pid}:${Date.now()}:`, timeout: '5s' },
    routes: [{ pool: 'web', rate_limits: [{ name: 'global', rate: 2, burst: 5, store: 'redis' as const }] }],
  }
  const a = await startPortico(t, config)
  const b = await startPortico(t, config)
  const start = performance.now()
  let accepted = 0
  for (let round = 0; round < 10; round++) {
    const replies = await Promise.all([get(a.url), get(b.url), get(a.url), get(b.url)])
    accepted += replies.filter((r) => r.status === 200).length
  }
  const seconds = (performance.now() - start) / 1000
  assert.ok(accepted >= 5, `accepted ${accepted}`)
  assert.ok(accepted <= 5 + Math.ceil(2 * seconds), `accepted ${accepted} in ${seconds} s`)
})

for (const mode of ['open', 'closed'] as const) {
  test(`with Redis gone a limit fails ${mode}, logs it once, and counts in Redis again when it is back`, {
    timeout: 30_000,
  }, async (t) => {
    const port = await freePort()
    let redis = await startRedis(t, port)
    const backend = await startBackend(t, 'a')
    const log = recordingEvents()
    const proxy = await startPortico(
      t,
      {
        pools: { web: { servers: [backend.address] } },
        // A busy machine may answer slowly; a Redis that is gone fails at once whatever the timeout.
        redis: { address: `127.0.0.1:${port}`, timeout: '5s' },
        routes: [
          {
            pool: 'web',
            rate_limits: [{ rate: 1, per: '1m', burst: 2, store: 'redis' as const, on_store_error: mode }],
          },
        ],
      },
      log.events,
    )
    assert.equal((await get(proxy.url)).status, 200)
    assert.equal((await get(proxy.url)).status, 200)
    assert.equal((await get(proxy.url)).status, 429)

    await stopRedis(redis)
    const down = mode === 'open' ? 200 : 429
    for (let i = 0; i < 3; i++) assert.equal((await get(proxy.url)).status, down)
    assert.equal(log.lines.filter((l) => /store unreachable/.test(l)).length, 1)

    const before = log.lines.length
    redis = await startRedis(t, port)
    await log.waitFor(/reachable again/, before)
    // A fresh Redis has no counts: the burst passes again, then the limit holds.
    assert.equal((await get(proxy.url)).status, 200)
    assert.equal((await get(proxy.url)).status, 200)
    assert.equal((await get(proxy.url)).status, 429)
  })
}
