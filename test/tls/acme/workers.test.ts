import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../../helpers/backend.ts'
import { spawnPortico, writeConfig } from '../../helpers/spawn.ts'
import { acmeListeners, acmeSetup, httpsGet, servedCertificate } from './fixture.ts'

test('with 2 workers, one obtains each certificate and every worker serves it', { timeout: 120_000 }, async (t) => {
  const setup = await acmeSetup(t)
  const backend = await startBackend(t, 'app')
  const names = ['a.test', 'b.test']
  const config = {
    workers: 2,
    // The CA's validation connections reach either worker: both must hold each challenge.
    listeners: acmeListeners(setup, { hosts: names, challenges: ['tls-alpn-01'] }),
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  }
  const portico = await spawnPortico(t, ['run', '-c', writeConfig(config)], { listeners: 2 })
  await portico.waitFor(/certificate obtained[\s\S]*certificate obtained/)
  assert.equal(portico.output().match(/certificate obtained/g)?.length, 2, 'each name is obtained once')
  // New connections spread over both workers; each must serve both certificates.
  for (let i = 0; i < 12; i++) {
    const name = names[i % 2]!
    assert.equal((await servedCertificate(setup.secure, name, setup.root)).subjectaltname, `DNS:${name}`)
    assert.deepEqual(await httpsGet(setup.secure, name, setup.root), { status: 200, body: 'app' })
  }
  assert.doesNotMatch(portico.output(), /"level":50/)
})
