import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { adminConfig, ctl, startAdminPortico, token } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const timeout = 60_000

/** Backend `b`: answers `b`, but holds `/slow` until `release()`. */
async function holdingBackend(t: Parameters<typeof startBackend>[0]) {
  const held: ServerResponse[] = []
  const backend = await startBackend(t, 'b', (req, res) => {
    res.setHeader('x-backend', 'b')
    if (req.url === '/slow') {
      held.push(res)
      backend.server.emit('held')
    } else res.end('b')
  })
  return {
    ...backend,
    held,
    release: () => {
      for (const res of held.splice(0)) res.end('b')
    },
  }
}

async function bodies(url: string, n: number): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < n; i++) seen.push((await get(url)).body)
  return seen
}

test('a drain reaches both workers: no new requests, the one in flight finishes, and ctl --wait returns once it is empty', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await holdingBackend(t)
  const { url, admin, call, p } = await startAdminPortico(t, adminConfig([a.address, b.address]))
  // Requests to /slow until one is held by b: round robin sends one there within a few.
  const inFlight = (async () => {
    for (;;) {
      const reply = get(`${url}/slow`)
      const first = await Promise.race([reply.then(() => 'a'), once(b.server, 'held').then(() => 'b')])
      // Wrapped: an async function returning the promise itself would wait for its answer.
      if (first === 'b') return { reply }
    }
  })()
  const slow = (await inFlight).reply
  const drained = await call('POST', `/pools/web/servers/${b.address}/drain`)
  assert.equal(drained.status, 200)
  assert.deepEqual([drained.body.draining, drained.body.in_flight, drained.body.empty], [true, 1, false])
  assert.deepEqual(drained.body.reason.source, 'admin')

  const waiting = await ctl(t, admin, ['drain', 'web', b.address, '--wait'])
  assert.deepEqual(new Set(await bodies(url, 20)), new Set(['a']))
  assert.equal(waiting.child.exitCode, null, 'ctl --wait waits while a request is in flight')
  b.release()
  assert.equal((await slow).body, 'b', 'the request in flight finished')
  const done = await waiting.exited
  assert.equal(done.code, 0, done.out)
  assert.match(done.out, /drained .*in_flight=0/)

  const enabled = await call('POST', `/pools/web/servers/${b.address}/enable`)
  assert.equal(enabled.body.draining, false)
  assert.ok((await bodies(url, 20)).includes('b'))
  await p.waitFor(/"by":"ops","op":"enable","pool":"web","server":"127\.0\.0\.1:\d+"/)
})

test('a drain holds for a worker started after a crash', { timeout }, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const { url, call, p } = await startAdminPortico(t, adminConfig([a.address, b.address]))
  await call('POST', `/pools/web/servers/${b.address}/drain`)
  const { body: state } = await call('GET', '/state')
  assert.equal(state.workers.length, 2)
  process.kill(state.workers[0], 'SIGKILL')
  await p.waitFor(/worker started/)
  const { body: after } = await call('GET', '/state')
  assert.ok(!after.workers.includes(state.workers[0]))
  const server = after.pools[0].servers.find((s: { address: string }) => s.address === b.address)
  assert.equal(server.draining, true)
  assert.deepEqual(new Set(await bodies(url, 30)), new Set(['a']))
})

test('a weight set through the API reaches every worker, shows as a change from the file, and a reload says it undoes it', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const { url, call, p } = await startAdminPortico(t, adminConfig([a.address, b.address]))
  const weighed = await call('PUT', `/pools/web/servers/${a.address}/weight`, { weight: 0 })
  assert.equal(weighed.status, 200)
  assert.equal(weighed.body.weight, 0)
  assert.deepEqual(new Set(await bodies(url, 30)), new Set(['b']))
  const change = { pool: 'web', server: a.address, change: 'weight', file: 1, now: 0 }
  assert.deepEqual((await call('GET', '/config')).body.changes, [change])
  assert.deepEqual((await call('POST', '/reload?dry_run=true')).body.undone, [change])
  assert.equal((await call('PUT', `/pools/web/servers/${a.address}/weight`, { weight: 1001 })).status, 400)

  p.child.kill('SIGHUP')
  await p.waitFor(/"config reloaded".*|config reloaded/)
  assert.deepEqual((await call('GET', '/config')).body.changes, [])
  assert.ok((await bodies(url, 20)).includes('a'))
})

test('a server added through the API takes requests in every worker; removed, it drains first', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const { url, call } = await startAdminPortico(t, adminConfig([a.address]))
  const added = await call('POST', '/pools/web/servers', { address: b.address })
  assert.equal(added.status, 201)
  assert.equal((await call('POST', '/pools/web/servers', { address: b.address })).status, 409)
  assert.ok((await bodies(url, 20)).includes('b'))
  assert.deepEqual((await call('GET', '/config')).body.changes, [
    { pool: 'web', server: b.address, change: 'added', now: 1 },
  ])
  const removed = await call('DELETE', `/pools/web/servers/${b.address}?deadline_ms=5000`)
  assert.deepEqual(removed, { status: 200, body: { drained: true } })
  assert.deepEqual(new Set(await bodies(url, 20)), new Set(['a']))
  assert.equal((await call('GET', `/pools/web/servers/${b.address}`)).status, 404)
})

test('the admin API wants the token: none or a wrong one gets 401; the OpenAPI document is open', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const { admin } = await startAdminPortico(t, adminConfig([a.address], 1))
  assert.equal((await get(`${admin}/state`)).status, 401)
  assert.equal((await get(`${admin}/state`, { authorization: `Bearer ${token}x` })).status, 401)
  assert.equal((await get(`${admin}/state`, { authorization: `Bearer ${token}` })).status, 200)
  assert.equal((await get(`${admin}/openapi.json`)).status, 200)
  assert.equal((await request(`${admin}/state`, { method: 'DELETE' })).status, 405)
})

test('an admin listener off loopback without a token is refused; a token whose variable is unset stops the start', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const open = adminConfig([a.address], 1, { admin: { address: '0.0.0.0:0' } })
  const refused = await spawnPortico(t, ['run', '-c', writeConfig(open)])
  assert.equal(await refused.exited, 1)
  assert.match(
    refused.output(),
    /admin\.tokens: an admin listener on an address other than loopback needs at least one token/,
  )

  const unset = await spawnPortico(t, ['run', '-c', writeConfig(adminConfig([a.address], 1))])
  assert.equal(await unset.exited, 3)
  assert.match(
    unset.output(),
    /admin token "ops": environment variable TEST_ADMIN_TOKEN must hold at least 16 characters/,
  )
})

test('a purge through the API empties the cache of every worker', { timeout }, async (t) => {
  let hits = 0
  const backend = await startBackend(t, 'a', (_req, res) => {
    hits++
    res.setHeader('cache-control', 'max-age=600')
    res.end(`version ${hits}`)
  })
  const config = adminConfig([backend.address], 2, {
    routes: [{ name: 'site', pool: 'web', cache: { memory: '1MiB' } }],
  })
  const { url, call } = await startAdminPortico(t, config)
  const warm = await bodies(`${url}/page`, 20)
  assert.ok(hits <= 2, `each worker fetched once at most: ${hits}`)
  const before = hits
  // Keys name the host without its port, as the cache keys requests.
  const prefix = 'http://127.0.0.1/'
  const purged = await call('POST', '/cache/purge', { prefixes: [prefix] })
  assert.deepEqual(purged, { status: 200, body: { routes: ['site'], rule: { kind: 'prefix', values: [prefix] } } })
  const after = await bodies(`${url}/page`, 20)
  assert.ok(hits > before, 'the backend was asked again')
  assert.ok(
    after.every((b) => !warm.includes(b)),
    `no worker answered from before the purge: ${after}`,
  )
  assert.equal((await call('POST', '/cache/purge', { route: 'nope', tags: ['x'] })).status, 404)
  assert.equal((await call('POST', '/cache/purge', { urls: [], tags: ['x'] })).status, 400)
})

test('the state says which server is out, by which check, with what error and since when, summed over both workers', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const down = await startBackend(t, 'down', (_req, res) => {
    res.statusCode = 503
    res.end('down')
  })
  const config = adminConfig([a.address, down.address], 2)
  const checked = { ...config.pools.web, health_check: { path: '/health', interval: '200ms', rise: 1, fall: 1 } }
  const { p, call } = await startAdminPortico(t, { ...config, pools: { web: checked } })
  await p.waitFor(/"server unhealthy"/)
  const { body: pools } = await call('GET', '/pools')
  const out = pools[0].servers.find((s: { address: string }) => s.address === down.address)
  assert.equal(out.health, 'unhealthy')
  assert.equal(out.out, true)
  assert.equal(out.reason.source, 'active')
  assert.equal(out.reason.detail, 'status 503')
  assert.ok(Date.parse(out.reason.since) <= Date.now())
  const up = pools[0].servers.find((s: { address: string }) => s.address === a.address)
  assert.equal(up.out, false)
})
