import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { accessPids, waitForLine, workerPids } from '../cluster/output.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'
import { parsePrometheusText, sum } from './prometheus-text.ts'

const config = (server: string) => ({
  listeners: [{ address: '127.0.0.1:0' }],
  pools: { web: { servers: [server] } },
  routes: [
    { name: 'ok', match: { path: '/ok' }, pool: 'web' },
    { name: 'missing', match: { path: '/missing' }, pool: 'web' },
  ],
  workers: 2,
  access_log: { output: 'stdout', format: 'json' },
  metrics: { address: '127.0.0.1:0' },
})

async function scrape(url: string) {
  const reply = await get(url)
  assert.equal(reply.status, 200)
  assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  return parsePrometheusText(reply.body)
}

test('one scrape counts the requests both workers served, by route, method, status class and bytes', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'web', (req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/missing') res.writeHead(404).end('no')
      else res.end('hello')
    })
  })
  const file = writeConfig(config(backend.address))
  const p = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  const metricsUrl = (await p.waitFor(/portico metrics on (\S+)/))[1]!
  const url = p.urls[0]!
  // Each request on a new connection: the kernel spreads connections, so they reach both workers.
  for (let i = 0; i < 20; i++) assert.equal((await get(`${url}/ok`)).status, 200)
  for (let i = 0; i < 10; i++) assert.equal((await get(`${url}/missing`)).status, 404)
  for (let i = 0; i < 5; i++) {
    assert.equal((await request(`${url}/ok`, { method: 'POST', body: 'x'.repeat(100) })).status, 200)
  }
  for (let i = 0; i < 3; i++) assert.equal((await get(`${url}/elsewhere`)).status, 404)
  await waitForLine(p, () => (accessPids(p).length >= 38 ? true : undefined))
  assert.equal(new Set(accessPids(p)).size, 2, 'both workers served requests')

  const samples = await scrape(metricsUrl)
  const requests = (labels: Record<string, string>) => sum(samples, 'portico_requests_total', labels)
  assert.equal(requests({}), 38)
  assert.equal(requests({ route: 'ok', pool: 'web', method: 'GET', status_class: '2xx' }), 20)
  assert.equal(requests({ route: 'ok', method: 'POST', status_class: '2xx' }), 5)
  assert.equal(requests({ route: 'missing', method: 'GET', status_class: '4xx' }), 10)
  assert.equal(requests({ route: '', pool: '', server: '', status_class: '4xx' }), 3)
  assert.equal(sum(samples, 'portico_received_bytes_total', { route: 'ok' }), 500)
  assert.equal(sum(samples, 'portico_sent_bytes_total', { route: 'ok' }), 25 * 'hello'.length)
  assert.equal(sum(samples, 'portico_sent_bytes_total', { route: 'missing' }), 10 * 'no'.length)
  assert.equal(sum(samples, 'portico_request_duration_seconds_count', { route: 'ok' }), 25)
  assert.equal(sum(samples, 'portico_request_duration_seconds_bucket', { route: 'ok', le: '+Inf' }), 25)
  assert.ok(sum(samples, 'portico_request_duration_seconds_sum', { route: 'ok' }) > 0)
  assert.equal(sum(samples, 'portico_backend_response_seconds_count', { pool: 'web', server: backend.address }), 35)
  assert.equal(sum(samples, 'portico_connections_total'), 38)
  assert.equal(sum(samples, 'portico_pool_in_flight', { pool: 'web' }), 0)
  assert.equal(sum(samples, 'portico_server_health', { server: backend.address, state: 'unknown' }), 1)
  const workers = new Set(
    samples.filter((s) => s.name === 'process_cpu_user_seconds_total').map((s) => s.labels.worker),
  )
  assert.deepEqual([...workers].sort(), ['0', '1', 'primary'])
  assert.equal(samples.filter((s) => s.name === 'process_start_time_seconds').length, 3)

  // Later scrapes, even at the same time, count nothing twice.
  for (const again of await Promise.all([scrape(metricsUrl), scrape(metricsUrl), scrape(metricsUrl)])) {
    assert.equal(sum(again, 'portico_requests_total'), 38)
    assert.equal(sum(again, 'portico_received_bytes_total'), 500)
  }
})

test('reloads are counted, those refused apart', { timeout: 60_000 }, async (t) => {
  const backend = await startBackend(t, 'web')
  const file = writeConfig(config(backend.address))
  const p = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  const metricsUrl = (await p.waitFor(/portico metrics on (\S+)/))[1]!
  writeFileSync(file, 'routes: [')
  p.child.kill('SIGHUP')
  await p.waitFor(/reload refused/)
  writeFileSync(file, stringify(config(backend.address)))
  p.child.kill('SIGHUP')
  await p.waitFor(/"config reloaded"/)
  const samples = await scrape(metricsUrl)
  assert.equal(sum(samples, 'portico_reloads_total', { result: 'ok' }), 1)
  assert.equal(sum(samples, 'portico_reloads_total', { result: 'failed' }), 1)
  // Requests after the reload are counted on top, by the same workers.
  for (let i = 0; i < 4; i++) assert.equal((await get(`${p.urls[0]}/ok`)).status, 200)
  await waitForLine(p, () => (accessPids(p).length >= 4 ? true : undefined))
  assert.equal(sum(await scrape(metricsUrl), 'portico_requests_total', { route: 'ok' }), 4)
})

test('what a worker counted up to a scrape stays counted after it dies and is replaced', {
  timeout: 60_000,
}, async (t) => {
  const backend = await startBackend(t, 'web')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(config(backend.address))], { listeners: 1 })
  const metricsUrl = (await p.waitFor(/portico metrics on (\S+)/))[1]!
  const [killed] = await workerPids(p, 'workers started')
  for (let i = 0; i < 20; i++) assert.equal((await get(`${p.urls[0]}/ok`)).status, 200)
  await waitForLine(p, () => (accessPids(p).length >= 20 ? true : undefined))
  assert.equal(sum(await scrape(metricsUrl), 'portico_requests_total'), 20)
  process.kill(killed!, 'SIGKILL')
  await workerPids(p, 'worker started')
  for (let i = 0; i < 5; i++) assert.equal((await get(`${p.urls[0]}/ok`)).status, 200)
  await waitForLine(p, () => (accessPids(p).length >= 25 ? true : undefined))
  const samples = await scrape(metricsUrl)
  assert.equal(sum(samples, 'portico_requests_total'), 25)
  // The replacement takes the dead worker's index: still one `worker` label per process.
  const workers = samples.filter((s) => s.name === 'process_start_time_seconds').map((s) => s.labels.worker)
  assert.deepEqual(workers.sort(), ['0', '1', 'primary'])
})

test('with one process, the scrape comes from that process', { timeout: 60_000 }, async (t) => {
  const backend = await startBackend(t, 'web')
  const file = writeConfig({ ...config(backend.address), workers: 1 })
  const p = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  const metricsUrl = (await p.waitFor(/portico metrics on (\S+)/))[1]!
  for (let i = 0; i < 3; i++) assert.equal((await get(`${p.urls[0]}/ok`)).status, 200)
  await waitForLine(p, () => (accessPids(p).length >= 3 ? true : undefined))
  const samples = await scrape(metricsUrl)
  assert.equal(sum(samples, 'portico_requests_total', { route: 'ok', status_class: '2xx' }), 3)
  const workers = samples.filter((s) => s.name === 'process_start_time_seconds').map((s) => s.labels.worker)
  assert.deepEqual(workers, ['0'])
  assert.equal((await get(metricsUrl.replace('/metrics', '/other'))).status, 404)
  assert.equal((await request(metricsUrl, { method: 'POST' })).status, 405)
})

test('a metrics address in use stops Portico with exit 3', { timeout: 60_000 }, async (t) => {
  const backend = await startBackend(t, 'web')
  const taken = await startBackend(t, 'taken')
  const file = writeConfig({ ...config(backend.address), metrics: { address: taken.address } })
  const p = await spawnPortico(t, ['run', '-c', file])
  assert.equal(await p.exited, 3)
  assert.match(p.output(), /could not start: the metrics listener: .*EADDRINUSE/)
})
