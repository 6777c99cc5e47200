import assert from 'node:assert/strict'
import { test } from 'node:test'
import { adminConfig, startAdminPortico, token } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { noBrowser, startBrowser } from '../helpers/browser.ts'
import { request } from '../helpers/http.ts'

// With PORTICO_DASHBOARD_SCREENSHOT=docs/dashboard.png, the test first makes a few minutes'
// worth of varied traffic and saves a screenshot of the page there, for the docs.
const screenshot = process.env.PORTICO_DASHBOARD_SCREENSHOT

test('the dashboard shows pools and servers, counts live traffic, and its drain button drains a server, with two workers', {
  skip: noBrowser(),
  timeout: screenshot ? 300_000 : 90_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  let seenByB = 0
  const b = await startBackend(t, 'b', (_req, res) => {
    seenByB++
    res.setHeader('x-backend', 'b')
    res.end('b')
  })
  const config = adminConfig([a.address, b.address], 2, { metrics: { address: '127.0.0.1:0' } })
  const { url, admin } = await startAdminPortico(t, config)
  const browser = await startBrowser(t)
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const failures: string[] = []
  page.on('pageerror', (err) => failures.push(err.message))

  await page.goto(`${admin}/dashboard`)
  // The listener has tokens: the page asks for one, once.
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
  if (screenshot) await traffic(url, 45_000)

  await rowOf(b.address).locator('button.toggle').click()
  await page.waitForFunction(
    (address) =>
      ['draining', 'empty'].includes(
        document.querySelector(`tr[data-server="${address}"]`)!.getAttribute('data-state')!,
      ),
    b.address,
  )
  seenByB = 0
  const served = []
  for (let i = 0; i < 20; i++) served.push((await request(url)).headers['x-backend'])
  assert.deepEqual(new Set(served), new Set(['a']), 'the proxy sends the drained server nothing')
  assert.equal(seenByB, 0)
  // Nothing was in flight to b: the page says it is empty, and offers to enable it.
  await page.waitForFunction(
    (address) => document.querySelector(`tr[data-server="${address}"]`)!.getAttribute('data-state') === 'empty',
    b.address,
  )
  assert.equal(await rowOf(b.address).locator('button.toggle').textContent(), 'Enable')
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true })
  assert.deepEqual(failures, [])
})

test('the dashboard page and its files are served without a token; its event stream needs one', {
  timeout: 60_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const { admin } = await startAdminPortico(t, adminConfig([a.address], 1))
  for (const [path, type] of [
    ['/dashboard', 'text/html'],
    ['/dashboard/app.js', 'text/javascript'],
    ['/dashboard/style.css', 'text/css'],
  ] as const) {
    const reply = await request(`${admin}${path}`)
    assert.equal(reply.status, 200, path)
    assert.ok(reply.headers['content-type']!.startsWith(type), `${path}: ${reply.headers['content-type']}`)
  }
  assert.equal((await request(`${admin}/`)).headers.location, '/dashboard')
  assert.equal((await request(`${admin}/dashboard/events`)).status, 401)

  // With the token, the stream's first event is a snapshot with the pools.
  const events = await fetch(`${admin}/dashboard/events`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(events.status, 200)
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

/** Sends requests for `ms` at a rate that rises and falls, some of them to a path that fails. */
async function traffic(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const phase = Math.sin((Date.now() / 8000) * Math.PI) + 1.2
    const batch = Math.round(phase * 15)
    await Promise.all(Array.from({ length: batch }, () => request(url)))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
