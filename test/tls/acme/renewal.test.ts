import assert from 'node:assert/strict'
import { Agent, request } from 'node:https'
import { test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { startBackend } from '../../helpers/backend.ts'
import { startPortico } from '../../helpers/portico.ts'
import {
  type AcmeSetup,
  acmeListeners,
  acmeSetup,
  httpsGet,
  portOf,
  recordingEvents,
  servedCertificate,
} from './fixture.ts'

const timeout = 120_000

async function obtained(t: Parameters<typeof acmeSetup>[0], setup: AcmeSetup, challenges: string[] = ['http-01']) {
  const backend = await startBackend(t, 'app')
  const events = recordingEvents()
  const config = {
    listeners: acmeListeners(setup, { hosts: ['a.test'], challenges }),
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    metrics: { address: '127.0.0.1:0' },
  }
  const portico = await startPortico(t, config, events)
  await events.waitFor('certificate obtained')
  return { portico, events, config }
}

test('a restart serves the stored certificate without asking the CA', { timeout }, async (t) => {
  const setup = await acmeSetup(t)
  const first = await obtained(t, setup)
  const before = await servedCertificate(setup.secure, 'a.test', setup.root)
  await first.portico.close(0)
  // Any request to the CA from now on would fail and be logged as an error.
  await setup.pebble.stop()
  const events = recordingEvents()
  const second = await startPortico(t, first.config, events)
  const after = await servedCertificate(setup.secure, 'a.test', setup.root)
  assert.equal(after.fingerprint256, before.fingerprint256)
  assert.deepEqual(await httpsGet(setup.secure, 'a.test', setup.root), { status: 200, body: 'app' })
  assert.deepEqual(
    events.lines.filter((l) => l.level !== 'info'),
    [],
  )
  const [status] = second.certificates()
  assert.equal(status?.notAfter, new Date(Date.parse(after.valid_to)).toISOString())
})

test('a forced renewal while requests flow fails none of them and serves the new certificate', {
  timeout,
}, async (t) => {
  const setup = await acmeSetup(t)
  // TLS-ALPN-01: while the challenge is under way every new connection's ClientHello is read first.
  const { portico, events } = await obtained(t, setup, ['tls-alpn-01'])
  const before = await servedCertificate(setup.secure, 'a.test', setup.root)
  // A keep-alive connection opened before the renewal.
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: setup.root, servername: 'a.test' })
  t.after(() => agent.destroy())
  const onOpenConnection = () =>
    new Promise<{ status: number; socket: TLSSocket }>((resolve, reject) => {
      const options = { host: '127.0.0.1', port: portOf(setup.secure), headers: { host: 'a.test' }, agent }
      request(options, (res) => {
        const socket = res.socket as TLSSocket
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode!, socket }))
      })
        .on('error', reject)
        .end()
    })
  const opened = await onOpenConnection()
  let renewing = true
  const results: number[] = []
  const failures: string[] = []
  const client = async () => {
    while (renewing || results.length < 20) {
      try {
        results.push((await httpsGet(setup.secure, 'a.test', setup.root)).status)
      } catch (err) {
        failures.push((err as Error).message)
      }
    }
  }
  const clients = [client(), client(), client()]
  const status = await portico.renewCertificate('a.test')
  renewing = false
  await Promise.all(clients)
  await events.waitFor('certificate obtained', 2)
  assert.deepEqual(failures, [])
  assert.ok(results.every((s) => s === 200))
  assert.equal(status?.lastError, undefined)
  const after = await servedCertificate(setup.secure, 'a.test', setup.root)
  assert.notEqual(after.fingerprint256, before.fingerprint256)
  // The connection open across the renewal goes on with the certificate it started with.
  const reused = await onOpenConnection()
  assert.equal(reused.status, 200)
  assert.equal(reused.socket, opened.socket)
  assert.equal(reused.socket.getPeerCertificate().fingerprint256, before.fingerprint256)
})

test('a name Portico has no certificate for is refused in the handshake', { timeout }, async (t) => {
  const setup = await acmeSetup(t)
  await obtained(t, setup)
  await assert.rejects(servedCertificate(setup.secure, 'other.test', setup.root))
})

test('with the CA unreachable, a renewal fails with the reason reported and the current certificate keeps serving', {
  timeout,
}, async (t) => {
  const setup = await acmeSetup(t)
  const { portico, events } = await obtained(t, setup)
  const before = await servedCertificate(setup.secure, 'a.test', setup.root)
  await setup.pebble.stop()
  const status = await portico.renewCertificate('a.test')
  assert.match(status?.lastError ?? '', /ECONNREFUSED|connect/i)
  assert.ok(Date.parse(status!.renewAt!) > Date.now(), 'a retry is scheduled')
  const logged = events.lines.find((l) => l.message === 'certificate renewal failed, the current one stays')
  assert.equal(logged?.details?.name, 'a.test')
  assert.equal((await servedCertificate(setup.secure, 'a.test', setup.root)).fingerprint256, before.fingerprint256)
  assert.deepEqual(await httpsGet(setup.secure, 'a.test', setup.root), { status: 200, body: 'app' })
  assert.deepEqual(portico.certificates(), [status])
  const { gauges } = await portico.metrics!()
  const gauge = (name: string) => gauges.find(([n, labels]) => n === name && labels.name === 'a.test')?.[2]
  assert.equal(gauge('portico_acme_certificate_renewal_failing'), 1)
  assert.equal(gauge('portico_acme_certificate_expiry_timestamp_seconds'), Date.parse(status!.notAfter!) / 1000)
})
