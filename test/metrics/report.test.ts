import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { connect } from 'node:net'
import { test } from 'node:test'
import type { EventLog } from '../../src/log/events.ts'
import type { Sample } from '../../src/metrics/sample.ts'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'
import { closedPort } from '../helpers/closed-port.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

const metrics = { address: '127.0.0.1:0' }

function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let n = 0
  for (const [sampleName, sampleLabels, value] of samples) {
    if (sampleName === name && Object.entries(labels).every(([k, v]) => sampleLabels[k] === v)) n += value
  }
  return n
}

test('retries are counted by reason, cache results and rate-limit refusals by route and limit', async (t) => {
  const backend = await startBackend(t, 'web')
  const refused = await closedPort()
  const proxy = await startPortico(t, {
    pools: {
      flaky: { balancer: 'round_robin', servers: [refused, backend.address] },
      web: { servers: [backend.address] },
    },
    routes: [
      { name: 'cached', match: { path: '/cached' }, pool: 'web', cache: { memory: '1MiB', default_ttl: '1m' } },
      {
        name: 'limited',
        match: { path: '/limited' },
        pool: 'web',
        rate_limits: [{ name: 'tight', rate: 1, per: '1m', burst: 1, store: 'local' }],
      },
      { name: 'flaky', pool: 'flaky' },
    ],
    metrics,
  })
  for (let i = 0; i < 4; i++) assert.equal((await get(`${proxy.url}/flaky`)).status, 200)
  assert.equal((await get(`${proxy.url}/cached`)).status, 200)
  assert.equal((await get(`${proxy.url}/cached`)).status, 200)
  const limited = [
    await get(`${proxy.url}/limited`),
    await get(`${proxy.url}/limited`),
    await get(`${proxy.url}/limited`),
  ]
  assert.deepEqual(
    limited.map((r) => r.status),
    [200, 429, 429],
  )

  const { counters } = await proxy.metrics!()
  // Round robin sends every other first attempt to the refusing server; each is tried again.
  assert.equal(total(counters, 'portico_retries_total', { pool: 'flaky', reason: 'backend_refused' }), 2)
  assert.equal(total(counters, 'portico_requests_total', { route: 'flaky', server: backend.address }), 4)
  assert.equal(total(counters, 'portico_cache_requests_total', { route: 'cached', result: 'miss' }), 1)
  assert.equal(total(counters, 'portico_cache_requests_total', { route: 'cached', result: 'hit' }), 1)
  assert.equal(total(counters, 'portico_rate_limit_decisions_total', { limit: 'tight', decision: 'rejected' }), 2)
  assert.equal(total(counters, 'portico_requests_total', { route: 'limited', status_class: '4xx' }), 2)
})

test('TLS handshakes are counted, the failed ones apart', async (t) => {
  const ca = new TestCa(t)
  const backend = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [ca.issue('localhost', ['localhost'])] } }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    metrics,
  })
  const { port } = new URL(proxy.url)
  const ok = httpsRequest({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(ca.cert), agent: false })
  ok.end()
  const [res] = (await once(ok, 'response')) as [import('node:http').IncomingMessage]
  res.resume()
  await once(res, 'end')
  // A client that speaks plain HTTP to the TLS port fails the handshake.
  const plain = connect(Number(port), '127.0.0.1')
  plain.on('error', () => {})
  plain.end('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
  await once(plain, 'close')

  const { counters, gauges } = await proxy.metrics!()
  const listener = `127.0.0.1:${port}`
  assert.equal(total(counters, 'portico_tls_handshakes_total', { listener, result: 'ok' }), 1)
  assert.equal(total(counters, 'portico_tls_handshakes_total', { listener, result: 'failed' }), 1)
  assert.equal(total(counters, 'portico_connections_total', { listener }), 2)
  assert.ok(total(gauges, 'portico_connections_open', { listener }) <= 1)
})

/** Events that resolve `said(message)` once Portico has logged `message`. */
function watchedEvents(): EventLog & { said(message: string): Promise<void> } {
  const seen = new Set<string>()
  const waiting = new Map<string, () => void>()
  const keep = (message: string) => {
    seen.add(message)
    waiting.get(message)?.()
  }
  return {
    info: keep,
    warn: keep,
    error: keep,
    said: (message) =>
      seen.has(message) ? Promise.resolve() : new Promise((resolve) => waiting.set(message, resolve)),
  }
}

test('health from active checks, ejections and state changes are reported per server', async (t) => {
  const good = await startBackend(t, 'good')
  const failing = await startBackend(t, 'failing', (_req, res) => res.writeHead(503).end('down'))
  const sick = await startBackend(t, 'sick', (req, res) => res.writeHead(req.url === '/health' ? 500 : 200).end())
  const events = watchedEvents()
  const proxy = await startPortico(
    t,
    {
      pools: {
        flaky: {
          balancer: 'round_robin',
          servers: [failing.address, good.address],
          outlier: { consecutive_failures: 1, failures: ['5xx'], base_ejection: '1m' },
        },
        checked: { servers: [sick.address], health_check: { path: '/health', interval: '50ms', fall: 1 } },
      },
      routes: [
        { name: 'checked', match: { path: '/checked' }, pool: 'checked' },
        { name: 'flaky', pool: 'flaky' },
      ],
      metrics,
    },
    events,
  )
  const statuses = [(await get(proxy.url)).status, (await get(proxy.url)).status, (await get(proxy.url)).status]
  assert.deepEqual(statuses.sort(), [200, 200, 503])
  await events.said('server ejected')
  await events.said('server unhealthy')

  const { counters, gauges } = await proxy.metrics!()
  const failed = { pool: 'flaky', server: failing.address }
  assert.equal(total(counters, 'portico_server_ejections_total', failed), 1)
  assert.equal(total(gauges, 'portico_server_ejected', failed), 1)
  assert.equal(total(counters, 'portico_server_state_changes_total', failed), 1)
  assert.equal(total(counters, 'portico_requests_total', { ...failed, status_class: '5xx' }), 1)
  const checked = { pool: 'checked', server: sick.address }
  assert.equal(total(gauges, 'portico_server_health', { ...checked, state: 'unhealthy' }), 1)
  assert.equal(total(gauges, 'portico_server_health', { ...checked, state: 'healthy' }), 0)
  assert.ok(total(counters, 'portico_server_state_changes_total', checked) >= 1)
})
