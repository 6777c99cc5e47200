import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { test } from 'node:test'
import { adminConfig, startAdminPortico, token } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { TestCa } from '../helpers/certs.ts'

/** A GET on the admin listener over HTTPS, trusting `ca`, with a client certificate when given. */
async function httpsGet(url: string, ca: string, client?: { cert: string; key: string }) {
  const req = request(`${url}/state`, {
    ca: readFileSync(ca),
    ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    headers: { authorization: `Bearer ${token}` },
    agent: false,
  })
  req.end()
  const [res] = await once(req, 'response')
  res.resume()
  await once(res, 'end')
  return res.statusCode as number
}

test('the admin listener speaks HTTPS and, with client_ca, refuses a client without a certificate from that CA', {
  timeout: 60_000,
}, async (t) => {
  const ca = new TestCa(t)
  const server = ca.issue('admin', ['127.0.0.1'])
  const client = ca.issue('ops-laptop')
  const other = new TestCa(t, 'Other CA').issue('stranger')
  const a = await startBackend(t, 'a')
  const config = adminConfig([a.address], 1)
  const { admin } = await startAdminPortico(t, {
    ...config,
    admin: { ...config.admin, tls: { cert: server.cert, key: server.key, client_ca: ca.cert } },
  })
  assert.match(admin, /^https:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(await httpsGet(admin, ca.cert, client), 200)
  await assert.rejects(httpsGet(admin, ca.cert), /certificate|socket hang up|ECONNRESET|alert/i)
  await assert.rejects(httpsGet(admin, ca.cert, other), /certificate|socket hang up|ECONNRESET|alert|unknown ca/i)
})

test('the state names each listener certificate with the names it is for and its expiry', {
  timeout: 60_000,
}, async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('shop', ['shop.example.com', 'www.shop.example.com'])
  const a = await startBackend(t, 'a')
  const config = adminConfig([a.address], 1)
  const { call } = await startAdminPortico(t, {
    ...config,
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [{ cert: site.cert, key: site.key }] } }],
  })
  const { body: state } = await call('GET', '/state')
  assert.equal(state.listeners[0].tls, true)
  assert.equal(state.certificates.length, 1)
  const [cert] = state.certificates
  assert.deepEqual(cert.names, ['shop.example.com', 'www.shop.example.com'])
  assert.equal(cert.file, site.cert)
  assert.ok(Date.parse(cert.not_after) > Date.now())
  assert.ok(cert.days_left >= 0 && cert.days_left < 400, String(cert.days_left))
})
