import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { openapi } from '../../../src/admin/openapi.ts'
import { adminConfig, startAdminPortico, token } from '../../helpers/admin.ts'
import { startBackend } from '../../helpers/backend.ts'
import { noBrowser, startBrowser } from '../../helpers/browser.ts'
import { closedPort } from '../../helpers/closed-port.ts'
import { request } from '../../helpers/http.ts'

// With PORTICO_DASHBOARD_SCREENSHOT=docs/dashboard.png, the first test adds a pool with a slow,
// sometimes failing server and a dead one, makes a minute of varied traffic, and saves a
// screenshot of the page at the end, for the docs.
const screenshot = process.env.PORTICO_DASHBOARD_SCREENSHOT

test('the dashboard shows pools and servers, counts live traffic, and its drain button drains a server, with two workers', {
  skip: noBrowser(),
  timeout: screenshot ? 300_000 : 90_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  let seenByB = 0
  // b holds a request to /hold until the test lets it go: one in flight while it drains.
  const held = Promise.withResolvers<ServerResponse>()
  const b = await startBackend(t, 'b', (req, res) => {
    seenByB++
    res.setHeader('x-backend', 'b')
    if (req.url === '/hold') held.resolve(res)
    else res.end('b')
  })
  const extra = screenshot ? await screenshotPools(t, [a.address, b.address]) : {}
  const config = adminConfig([a.address, b.address], 2, { metrics: { address: '127.0.0.1:0' }, ...extra })
  const { url, admin, call } = await startAdminPortico(t, config)
  const browser = await startBrowser(t)
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const failures: string[] = []
  page.on('pageerror', (err) => failures.push(err.message))

  await page.goto(`${admin}/dashboard`)
  // The listener has tokens: the page asks for one, says when it is refused, and asks again.
  await page.locator('#token-value').fill('not-the-token-0123456789')
  await page.locator('#token button').click()
  await page.locator('#link', { hasText: 'the token was refused' }).waitFor()
  await page.locator('#token-value').fill(token)
  await page.locator('#token button').click()
  const rowOf = (address: string) => page.locator(`[data-pool="web"] tr[data-server="${address}"]`)
  await rowOf(a.address).waitFor()
  await rowOf(b.address).waitFor()
  assert.match((await page.locator('[data-pool="web"] h3').textContent())!, /^web · round_robin/)
  assert.equal(await rowOf(b.address).getAttribute('data-state'), 'up')
  assert.equal(await page.locator('#link').getAttribute('data-state'), 'live')

  const counted = async () => Number(await page.locator('#requests').textContent())
  const before = Number.isNaN(await counted()) ? 0 : await counted()
  for (let i = 0; i < 20; i++) assert.equal((await request(url)).status, 200)
  // The counter moves within a snapshot or two of the traffic.
  await page.waitForFunction((n) => Number(document.getElementById('requests')!.textContent) >= n, before + 20)
  assert.ok(seenByB > 0, 'b served its share before the drain')
  if (screenshot) await traffic(url, 60_000)

  // Requests to /hold until one is held by b (a answers the others at once).
  let holding: Promise<unknown> | undefined
  for (let i = 0; i < 20 && !holding; i++) {
    const reply = request(new URL('/hold', url).href)
    if ((await Promise.race([reply.then(() => 'a'), held.promise.then(() => 'b')])) === 'b') holding = reply
  }
  assert.ok(holding, 'a request is in flight to b')

  await rowOf(b.address).locator('button.toggle').click()
  // Draining, with its request still in flight.
  await page.waitForFunction(
    (address) => document.querySelector(`tr[data-server="${address}"]`)!.getAttribute('data-state') === 'draining',
    b.address,
  )
  assert.equal(await rowOf(b.address).locator('td.in-flight').textContent(), '1')
  seenByB = 0
  const served = []
  for (let i = 0; i < 20; i++) served.push((await request(url)).headers['x-backend'])
  assert.deepEqual(new Set(served), new Set(['a']), 'the proxy sends the drained server nothing')
  assert.equal(seenByB, 0)
  // The request in flight finishes: the page says b is empty, and offers to enable it.
  ;(await held.promise).end('b')
  assert.equal(((await holding) as { status: number }).status, 200)
  await page.waitForFunction(
    (address) => document.querySelector(`tr[data-server="${address}"]`)!.getAttribute('data-state') === 'empty',
    b.address,
  )
  assert.equal(await rowOf(b.address).locator('button.toggle').textContent(), 'Enable')

  // The weight form sets the weight in every worker.
  await rowOf(a.address).locator('input').fill('3')
  await rowOf(a.address).locator('button', { hasText: 'Set' }).click()
  await page.locator('#notice', { hasText: `weight web ${a.address}: done` }).waitFor()
  assert.equal((await call('GET', `/pools/web/servers/${a.address}`)).body.weight, 3)
  await page.locator('#changes', { hasText: `web ${a.address}: weight 1 → 3` }).waitFor()

  if (screenshot) {
    await traffic(url, 5_000)
    await page.screenshot({ path: screenshot, fullPage: true })
  }
  assert.deepEqual(failures, [])
})

test('on a loopback admin listener without tokens, the dashboard asks for none', {
  skip: noBrowser(),
  timeout: 60_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const { admin } = await startAdminPortico(t, adminConfig([a.address], 1, { admin: { address: '127.0.0.1:0' } }))
  const page = await (await startBrowser(t)).newPage()
  await page.goto(`${admin}/dashboard`)
  await page.locator(`[data-pool="web"] tr[data-server="${a.address}"]`).waitFor()
  assert.equal(await page.locator('#token').isHidden(), true)
  // Metrics are off in this config: the page says how to turn the charts on.
  await page.locator('#notice', { hasText: 'Metrics are off' }).waitFor()
})

test('the dashboard page and its files are served, without a token, as the OpenAPI document says; its event stream needs one', {
  timeout: 60_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const { admin } = await startAdminPortico(t, adminConfig([a.address], 1))
  const paths = openapi.paths as unknown as Record<
    string,
    { get: { security?: unknown[]; responses: Record<string, { content?: object }> } }
  >
  for (const path of [
    '/dashboard',
    '/dashboard/app.js',
    '/dashboard/chart.js',
    '/dashboard/pools.js',
    '/dashboard/style.css',
  ]) {
    const documented = paths[path]!.get
    assert.deepEqual(documented.security, [], `${path} is open`)
    const reply = await request(`${admin}${path}`)
    assert.equal(reply.status, 200, path)
    const type = Object.keys(documented.responses['200']!.content!)[0]!
    assert.equal(reply.headers['content-type']!.split(';')[0], type, path)
  }
  const lead = await request(`${admin}/`)
  assert.equal(lead.status, 302)
  assert.equal(lead.headers.location, '/dashboard')
  assert.equal((await request(`${admin}/dashboard/events`)).status, 401)

  // With the token, the stream's first event is a snapshot with the pools.
  const events = await fetch(`${admin}/dashboard/events`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(events.status, 200)
  assert.deepEqual(Object.keys(paths['/dashboard/events']!.get.responses['200']!.content!), ['text/event-stream'])
  assert.equal(events.headers.get('content-type'), 'text/event-stream')
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (!text.includes('\n\n')) text += (await reader.read()).value ?? ''
  await reader.cancel()
  const [event, data] = text.split('\n')
  assert.equal(event, 'event: snapshot')
  const snapshot = JSON.parse(data!.slice('data: '.length))
  assert.deepEqual(
    snapshot.pools.map((p: { name: string }) => p.name),
    ['web'],
  )
  assert.equal(snapshot.metrics, false)
  assert.ok(Array.isArray(snapshot.history))
})

/** For the screenshot: a pool `api` with a slow server that fails now and then, and a dead one. */
async function screenshotPools(t: Parameters<typeof startBackend>[0], web: string[]) {
  const slow = await startBackend(t, 'slow', (_req, res) => {
    setTimeout(
      () => {
        res.statusCode = Math.random() < 0.03 ? 500 : 200
        res.end('slow')
      },
      5 + Math.random() ** 3 * 200,
    )
  })
  return {
    pools: {
      web: { servers: web },
      api: {
        servers: [slow.address, await closedPort()],
        balancer: 'least_conn',
        health_check: { path: '/', interval: '1s' },
      },
    },
    routes: [{ name: 'api', match: { path: { prefix: '/api' } }, pool: 'api' }, { pool: 'web' }],
  }
}

/** Sends requests for `ms` at a rate that rises and falls, a third of them to `/api`. */
async function traffic(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const batch = Math.round((Math.sin((Date.now() / 12_000) * Math.PI) + 1.3) * 12)
    await Promise.all(Array.from({ length: batch }, (_, i) => request(i % 3 === 0 ? new URL('/api/x', url).href : url)))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
