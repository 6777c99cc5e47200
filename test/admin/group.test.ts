import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { adminConfig, startAdminPortico, token } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { noBrowser, startBrowser } from '../helpers/browser.ts'
import { get } from '../helpers/http.ts'
import { groupJoined, uniquePrefix } from '../helpers/redis.ts'

async function bodies(url: string, n: number): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < n; i++) seen.push((await get(url)).body)
  return seen
}

// A change another instance made, once this instance's admin control has applied it (its log line).
const applied = (version: number) => new RegExp(`"by":"instance \\(change ${version}\\)"`)
// One line per worker that drained the server.
const drainedInBoth = /"msg":"server draining"[\s\S]*"msg":"server draining"/

test('a drain, a weight and an added server made through one instance apply on the others, one started later included; GET /state lists every instance', {
  timeout: 120_000,
}, async (t) => {
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(t, n)))
  const prefix = uniquePrefix('admin-group')
  const redis = { key_prefix: prefix, timeout: '5s', share: ['changes'] }
  const config = (workers: number) => adminConfig([a!.address, b!.address], workers, { redis })
  const one = await startAdminPortico(t, config(2))
  const two = await startAdminPortico(t, config(2))
  await groupJoined(prefix, 4)

  const state = (await one.call('GET', '/state')).body
  const instances = state.group.instances as { instance: string; processes: { pid: number; version: string }[] }[]
  assert.equal(instances.length, 2)
  assert.ok(instances.every((i) => i.processes.length === 2))
  assert.ok(instances.some((i) => i.instance.endsWith(`/${two.p.child.pid}`)))
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  assert.ok(instances.flatMap((i) => i.processes).every((p) => p.version === version))

  // Drained through the first instance's API: the second stops sending to it, in both its workers.
  assert.equal((await one.call('POST', `/pools/web/servers/${a!.address}/drain`)).status, 200)
  await two.p.waitFor(applied(1))
  await two.p.waitFor(drainedInBoth)
  assert.deepEqual(await bodies(two.url, 6), ['b', 'b', 'b', 'b', 'b', 'b'])
  const drained = (await two.call('GET', `/pools/web/servers/${a!.address}`)).body
  assert.equal(drained.draining, true)

  // Weighted through the first: the second's state shows the weight.
  assert.equal((await one.call('PUT', `/pools/web/servers/${b!.address}/weight`, { weight: 5 })).status, 200)
  await two.p.waitFor(applied(2))
  assert.equal((await two.call('GET', `/pools/web/servers/${b!.address}`)).body.weight, 5)

  // Added through the first: the second sends to it (each worker balances its own requests).
  assert.equal((await one.call('POST', '/pools/web/servers', { address: c!.address, weight: 5 })).status, 201)
  await two.p.waitFor(applied(3))
  assert.deepEqual(new Set(await bodies(two.url, 8)), new Set(['b', 'c']))

  // An instance started after the changes catches up on all three, and the group lists it.
  const late = await startAdminPortico(t, config(1))
  await late.p.waitFor(applied(3))
  const servers = (await late.call('GET', '/state')).body.pools[0].servers as {
    address: string
    weight: number
    draining: boolean
  }[]
  assert.deepEqual(
    servers.map((s) => [s.address, s.weight, s.draining]),
    [
      [a!.address, 1, true],
      [b!.address, 5, false],
      [c!.address, 5, false],
    ],
  )
  assert.deepEqual((await bodies(late.url, 4)).sort(), ['b', 'b', 'c', 'c'])
  await groupJoined(prefix, 5)
  assert.equal((await two.call('GET', '/state')).body.group.instances.length, 3)
  for (const p of [one, two, late]) assert.doesNotMatch(p.p.output(), /not applied here|refused/)
})

test('a server removed through one instance leaves the pools of the others, and an enable ends a drain everywhere', {
  timeout: 90_000,
}, async (t) => {
  const [a, b] = await Promise.all(['a', 'b'].map((n) => startBackend(t, n)))
  const prefix = uniquePrefix('admin-group-remove')
  const redis = { key_prefix: prefix, timeout: '5s', share: ['changes'] }
  const config = adminConfig([a!.address, b!.address], 1, { redis })
  const one = await startAdminPortico(t, config)
  const two = await startAdminPortico(t, config)
  await groupJoined(prefix, 2)

  assert.equal((await one.call('POST', `/pools/web/servers/${a!.address}/drain`)).status, 200)
  await two.p.waitFor(applied(1))
  assert.equal((await one.call('POST', `/pools/web/servers/${a!.address}/enable`)).status, 200)
  await two.p.waitFor(applied(2))
  assert.deepEqual((await bodies(two.url, 4)).sort(), ['a', 'a', 'b', 'b'])

  assert.equal((await one.call('DELETE', `/pools/web/servers/${b!.address}?deadline_ms=0`)).status, 200)
  // The removal drains first (change 3), then takes the server out (change 4).
  await two.p.waitFor(applied(4))
  const servers = (await two.call('GET', '/state')).body.pools[0].servers as { address: string }[]
  assert.deepEqual(
    servers.map((s) => s.address),
    [a!.address],
  )
  assert.deepEqual(await bodies(two.url, 4), ['a', 'a', 'a', 'a'])
  assert.equal((await two.call('GET', '/config')).body.changes[0].change, 'removed')
  for (const p of [one, two]) assert.doesNotMatch(p.p.output(), /not applied here|refused/)
})

test('the dashboard lists the instances of the group, a row per serving process', {
  skip: noBrowser(),
  timeout: 90_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const prefix = uniquePrefix('admin-group-dashboard')
  const config = adminConfig([a.address], 1, { redis: { key_prefix: prefix, timeout: '5s', share: ['changes'] } })
  const one = await startAdminPortico(t, config)
  const two = await startAdminPortico(t, config)
  await groupJoined(prefix, 2)
  const page = await (await startBrowser(t)).newPage()
  await page.goto(`${one.admin}/dashboard`)
  await page.locator('#token-value').fill(token)
  await page.locator('#token button').click()
  for (const p of [one, two]) await page.locator(`#group tr[data-instance$="/${p.p.child.pid}"]`).waitFor()
  assert.equal(await page.locator('#group tbody tr').count(), 2)
  assert.equal(await page.locator('#group').isVisible(), true)
})
