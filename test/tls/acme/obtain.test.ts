import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { startBackend } from '../../helpers/backend.ts'
import { request } from '../../helpers/http.ts'
import { startPortico } from '../../helpers/portico.ts'
import { acmeListeners, acmeSetup, h2Get, httpsGet, recordingEvents, servedCertificate } from './fixture.ts'

const timeout = 90_000

for (const challenge of ['http-01', 'tls-alpn-01'] as const) {
  test(`a certificate is obtained by ${challenge} at start and serves HTTPS to a client that trusts the CA`, {
    timeout,
  }, async (t) => {
    const setup = await acmeSetup(t)
    const backend = await startBackend(t, 'app')
    const events = recordingEvents()
    const portico = await startPortico(
      t,
      {
        listeners: acmeListeners(setup, { hosts: ['a.test'], challenges: [challenge] }),
        pools: { web: { servers: [backend.address] } },
        routes: [{ pool: 'web' }],
      },
      events,
    )
    // A client that comes before the certificate waits for it in the handshake.
    const answer = await httpsGet(setup.secure, 'a.test', setup.root)
    await events.waitFor('certificate obtained')
    assert.deepEqual(answer, { status: 200, body: 'app' })
    assert.deepEqual(await h2Get(setup.secure, 'a.test', setup.root), { status: 200, body: 'app' })
    // HTTP-01 was answered before the plain listener's redirect, which every other request gets.
    const plain = await request(`http://${setup.plain}/.well-known/acme-challenge/guess`, {
      headers: { host: 'a.test' },
    })
    assert.equal(plain.status, 308)
    const cert = await servedCertificate(setup.secure, 'a.test', setup.root)
    assert.equal(cert.subjectaltname, 'DNS:a.test')
    const [status] = portico.certificates()
    assert.equal(status?.name, 'a.test')
    assert.match(status?.issuer ?? '', /Pebble/)
    assert.equal(status?.lastError, undefined)
    assert.ok(Date.parse(status!.notAfter!) > Date.now())
    // The private keys are readable by Portico's user alone.
    const folder = join(setup.storage, `${new URL(setup.pebble.directory).host.replace(':', '-')}-dir`)
    assert.equal(statSync(join(folder, 'account.key')).mode & 0o777, 0o600)
    assert.equal(statSync(join(folder, 'certificates', 'a.test', 'key.pem')).mode & 0o777, 0o600)
  })
}
