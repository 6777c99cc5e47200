import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'
import { freePort } from '../helpers/free-port.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnRedis } from '../helpers/redis.ts'

const plain = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']

/** Portico with one limit of 2 requests a minute counted in the Redis `redis` names: 200, 200, 429. */
async function limitHolds(t: TestContext, redis: object): Promise<void> {
  const backend = await startBackend(t, 'a')
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    redis: { timeout: '5s', ...redis },
    routes: [{ pool: 'web', rate_limits: [{ rate: 1, per: '1m', burst: 2, store: 'redis' }] }],
  })
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await get(proxy.url)).status)
  assert.deepEqual(statuses, [200, 200, 429])
}

test('mode sentinel: limits count in the master the Sentinels name', { timeout: 60_000 }, async (t) => {
  const master = await freePort()
  await spawnRedis(t, ['--port', String(master), ...plain])
  const sentinel = await freePort()
  const conf = join(mkdtempSync(join(tmpdir(), 'portico-sentinel-')), 'sentinel.conf')
  writeFileSync(conf, `port ${sentinel}\nbind 127.0.0.1\nsentinel monitor portico-test 127.0.0.1 ${master} 1\n`)
  await spawnRedis(t, [conf, '--sentinel'], /\+monitor master portico-test/)
  await limitHolds(t, { mode: 'sentinel', nodes: [`127.0.0.1:${sentinel}`], master_name: 'portico-test' })
})

test('mode cluster: limits count in a Redis Cluster of three masters', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  for (const port of ports) {
    await spawnRedis(t, [
      '--port',
      String(port),
      ...plain,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--dir',
      dir,
    ])
  }
  execFileSync('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ])
  // Every node agrees that all slots are served before traffic starts.
  for (const port of ports) {
    while (!/cluster_state:ok/.test(execFileSync('redis-cli', ['-p', String(port), 'cluster', 'info']).toString())) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  await limitHolds(t, { mode: 'cluster', nodes: ports.map((p) => `127.0.0.1:${p}`) })
})

test('tls: limits count in a Redis reached over TLS with a private CA, and a password', {
  timeout: 60_000,
}, async (t) => {
  const ca = new TestCa(t)
  const pem = ca.issue('redis.test', ['redis.test', '127.0.0.1'])
  const port = await freePort()
  await spawnRedis(t, [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    pem.cert,
    '--tls-key-file',
    pem.key,
    '--tls-ca-cert-file',
    ca.cert,
    '--tls-auth-clients',
    'no',
    '--requirepass',
    'a-password-for-tests',
    ...plain,
  ])
  await limitHolds(t, {
    address: `127.0.0.1:${port}`,
    password: 'a-password-for-tests',
    tls: { ca: ca.cert, server_name: 'redis.test' },
  })
})
