import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { connect } from 'node:net'
import { test } from 'node:test'
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
