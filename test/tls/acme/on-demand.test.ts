import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../../helpers/backend.ts'
import { startPortico } from '../../helpers/portico.ts'
import { acmeListeners, acmeSetup, httpsGet, recordingEvents, servedCertificate } from './fixture.ts'

test('on demand, a certificate is obtained in the first handshake for a name allowed and routed, within the rate; others are refused', {
  timeout: 120_000,
}, async (t) => {
  const setup = await acmeSetup(t)
  const backend = await startBackend(t, 'app')
  const asked: string[] = []
  const ask = await startBackend(t, 'ask', (req, res) => {
    const domain = new URL(req.url!, 'http://x').searchParams.get('domain')!
    asked.push(domain)
    res.writeHead(domain === 'ok.test' ? 200 : 403).end()
  })
  const events = recordingEvents()
  const portico = await startPortico(
    t,
    {
      listeners: acmeListeners(setup, {
        on_demand: { allow: ['*.shop.test'], ask: `http://${ask.address}/check`, rate: 2, per: '1m' },
      }),
      pools: { web: { servers: [backend.address] } },
      routes: [{ match: { host: ['*.shop.test', 'ok.test', 'no.test', 'late.test'] }, pool: 'web' }],
    },
    events,
  )
  // Allowed by the list, then by the ask endpoint: each handshake waits for its certificate.
  assert.equal((await servedCertificate(setup.secure, 'a.shop.test', setup.root)).subjectaltname, 'DNS:a.shop.test')
  assert.deepEqual(await httpsGet(setup.secure, 'ok.test', setup.root), { status: 200, body: 'app' })
  // The ask endpoint says no; no route takes other.test, so the endpoint is not even asked.
  await assert.rejects(servedCertificate(setup.secure, 'no.test', setup.root))
  await assert.rejects(servedCertificate(setup.secure, 'other.test', setup.root))
  assert.deepEqual(asked, ['ok.test', 'no.test'])
  // Two certificates a minute: a third allowed name waits for the next minute.
  await assert.rejects(servedCertificate(setup.secure, 'b.shop.test', setup.root))
  const refused = portico.certificates().find((s) => s.name === 'b.shop.test')
  assert.equal(refused?.lastError, 'on-demand issuance rate limit reached')
  assert.deepEqual(
    portico
      .certificates()
      .filter((s) => s.lastError === undefined)
      .map((s) => s.name),
    ['a.shop.test', 'ok.test'],
  )
})
