import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startAdminPortico } from '../../helpers/admin.ts'
import { startBackend } from '../../helpers/backend.ts'
import { acmeListeners, acmeSetup, httpsGet, servedCertificate } from './fixture.ts'

test('with 2 workers, one obtains each certificate, every worker serves it, and the admin API lists it', {
  timeout: 120_000,
}, async (t) => {
  const setup = await acmeSetup(t)
  const backend = await startBackend(t, 'app')
  const names = ['a.test', 'b.test']
  const config = {
    workers: 2,
    // The CA's validation connections reach either worker: both must hold each challenge.
    listeners: acmeListeners(setup, { hosts: names, challenges: ['tls-alpn-01'] }),
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: 'off' },
    admin: { address: '127.0.0.1:0', tokens: [{ name: 'ops', env: 'TEST_ADMIN_TOKEN' }] },
  }
  const { p: portico, call } = await startAdminPortico(t, config)
  await portico.waitFor(/certificate obtained[\s\S]*certificate obtained/)
  assert.equal(portico.output().match(/certificate obtained/g)?.length, 2, 'each name is obtained once')
  // New connections spread over both workers; each must serve both certificates.
  for (let i = 0; i < 12; i++) {
    const name = names[i % 2]!
    assert.equal((await servedCertificate(setup.secure, name, setup.root)).subjectaltname, `DNS:${name}`)
    assert.deepEqual(await httpsGet(setup.secure, name, setup.root), { status: 200, body: 'app' })
  }
  assert.doesNotMatch(portico.output(), /"level":50/)
  // The admin API lists them with the certificate files, whichever worker it asks.
  const { body } = await call('GET', '/state')
  const acme = body.certificates.filter((c: { file: string }) => c.file.startsWith(setup.storage))
  assert.deepEqual(
    acme.map((c: { listener: string; names: string[]; days_left: number }) => [c.listener, c.names, c.days_left > 30]),
    names.map((n) => [setup.secure, [n], true]),
  )
})
