import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../../helpers/backend.ts'
import { startPortico } from '../../helpers/portico.ts'
import { acmeListeners, acmeSetup, httpsGet, recordingEvents, servedCertificate } from './fixture.ts'

test('a wildcard certificate is obtained by dns-01 through an exec command that sets the TXT record', {
  timeout: 120_000,
}, async (t) => {
  const setup = await acmeSetup(t)
  const backend = await startBackend(t, 'app')
  // The command a user would write for their DNS host's tool; here it drives the test DNS server.
  const dns = setup.pebble.dnsManagement
  const script = `
    case "$1" in
      present) curl -sf -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" "${dns}/set-txt" ;;
      cleanup) curl -sf -X POST -d "{\\"host\\":\\"$2\\"}" "${dns}/clear-txt" ;;
    esac`
  const events = recordingEvents()
  await startPortico(
    t,
    {
      listeners: acmeListeners(setup, {
        hosts: ['*.w.test'],
        challenges: ['dns-01'],
        dns: { exec: { command: ['sh', '-c', script, 'dns-hook'] } },
      }),
      pools: { web: { servers: [backend.address] } },
      routes: [{ pool: 'web' }],
    },
    events,
  )
  await events.waitFor('certificate obtained')
  assert.equal((await servedCertificate(setup.secure, 'x.w.test', setup.root)).subjectaltname, 'DNS:*.w.test')
  assert.deepEqual(await httpsGet(setup.secure, 'y.w.test', setup.root), { status: 200, body: 'app' })
})

test('a dns-01 command that fails is reported with what it wrote', { timeout: 60_000 }, async (t) => {
  const setup = await acmeSetup(t)
  const events = recordingEvents()
  const portico = await startPortico(
    t,
    {
      listeners: acmeListeners(setup, {
        hosts: ['d.test'],
        challenges: ['dns-01'],
        dns: { exec: { command: ['sh', '-c', 'echo "no API token" >&2; exit 3', 'dns-hook'] } },
      }),
      pools: {},
      routes: [{ respond: { status: 204 } }],
    },
    events,
  )
  await events.waitFor('certificate not obtained')
  assert.match(portico.certificates()[0]?.lastError ?? '', /dns exec present failed: no API token/)
})
