import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ActiveCheckSettings, ActiveChecks } from '../../../src/upstream/health/active.ts'
import type { Server } from '../../../src/upstream/server.ts'
import { startBackend } from '../../helpers/backend.ts'
import { testServers } from '../../helpers/servers.ts'

/** A server entry for a real backend at `address`. */
function serverAt(address: string): Server {
  const port = Number(address.split(':')[1])
  return { ...testServers([1])[0]!, address, port }
}

/** Runs one round of checks on `server` and resolves with its result. */
function probeOnce(settings: ActiveCheckSettings, server: Server): Promise<string | undefined> {
  return new Promise((resolve) => {
    const checks = new ActiveChecks(settings, {
      onProbe(_s, failure) {
        checks.stop()
        resolve(failure)
      },
    })
    checks.add(server)
  })
}

const http = (over: Partial<NonNullable<ActiveCheckSettings['http']>> = {}): ActiveCheckSettings => ({
  intervalMs: 60_000,
  timeoutMs: 5000,
  rise: 1,
  fall: 1,
  http: {
    method: 'GET',
    path: '/health',
    host: undefined,
    statuses: [[200, 399]],
    body: undefined,
    maxBodyBytes: 65536,
    ...over,
  },
})

test('an HTTP check passes on an expected status and sends the method, path and Host it was given', async (t) => {
  let seen = ''
  const backend = await startBackend(t, 'a', (req, res) => {
    seen = `${req.method} ${req.url} ${req.headers.host}`
    res.end('ok')
  })
  const result = await probeOnce(http({ method: 'HEAD', host: 'health.example' }), serverAt(backend.address))
  assert.equal(result, undefined)
  assert.equal(seen, 'HEAD /health health.example')
})

test('an HTTP check fails on an unexpected status and says which', async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.statusCode = 503
    res.end()
  })
  assert.equal(await probeOnce(http(), serverAt(backend.address)), 'status 503')
  assert.equal(await probeOnce(http({ statuses: [[503, 503]] }), serverAt(backend.address)), undefined)
})

test('an HTTP check with a body pattern fails when the body does not match', async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => res.end('status: degraded'))
  const server = serverAt(backend.address)
  assert.equal(await probeOnce(http({ body: /status: ok/ }), server), 'body does not match')
  assert.equal(await probeOnce(http({ body: /degraded/ }), server), undefined)
})

test('an HTTP check fails with a timeout when the server does not answer in time', async (t) => {
  const backend = await startBackend(t, 'a', () => {})
  assert.equal(await probeOnce({ ...http(), timeoutMs: 100 }, serverAt(backend.address)), 'timeout')
})

test('a TCP check passes when the port accepts and fails with the error code when it refuses', async (t) => {
  const backend = await startBackend(t, 'a')
  const tcp = { ...http(), http: undefined }
  assert.equal(await probeOnce(tcp, serverAt(backend.address)), undefined)
  const closed = serverAt(backend.address)
  await new Promise<void>((resolve) => {
    backend.server.closeAllConnections()
    backend.server.close(() => resolve())
  })
  assert.equal(await probeOnce(tcp, closed), 'ECONNREFUSED')
})

test('active checks repeat every interval and stop when told', async (t) => {
  const backend = await startBackend(t, 'a')
  const results: (string | undefined)[] = []
  await new Promise<void>((resolve) => {
    const checks = new ActiveChecks(
      { ...http(), intervalMs: 10 },
      {
        onProbe(_s, failure) {
          results.push(failure)
          if (results.length === 3) {
            checks.stop()
            resolve()
          }
        },
      },
    )
    checks.add(serverAt(backend.address))
  })
  assert.deepEqual(results, [undefined, undefined, undefined])
})
