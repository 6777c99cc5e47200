import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { type TestContext, test } from 'node:test'
import { connect as connectTls } from 'node:tls'
import type { EventLog } from '../../src/log/events.ts'
import { TestCa } from '../helpers/certs.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const ask = 'GET / HTTP/1.1\r\nhost: a\r\n\r\n'

/**
 * Opens a connection to `url`, sends `prefix` (a PROXY header) and a request, and resolves with the
 * open socket once an answer comes, or with 'closed' when Portico closes it unanswered.
 */
async function attempt(t: TestContext, url: string, prefix: Buffer | string = ''): Promise<Socket | 'closed'> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  t.after(() => socket.destroy())
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(prefix)
  socket.write(ask)
  return new Promise((resolve) => {
    socket.once('data', () => resolve(socket))
    socket.once('close', () => resolve('closed'))
  })
}

/** An event log that keeps what is said. */
function recording(): EventLog & { lines: { message: string; details?: Record<string, unknown> }[] } {
  const lines: { message: string; details?: Record<string, unknown> }[] = []
  const keep = (message: string, details?: Record<string, unknown>) => void lines.push({ message, details })
  return { lines, info: keep, warn: keep, error: keep }
}

const answer = [{ respond: { body: 'ok' } }]

test('a client past max_per_client is disconnected unanswered, logged once per second, and served again once one of its connections closes', async (t) => {
  const events = recording()
  const p = await startPortico(
    t,
    { listeners: [{ address: '127.0.0.1:0', connections: { max_per_client: 2 } }], routes: answer, pools: {} },
    events,
  )
  const first = await attempt(t, p.url)
  const second = await attempt(t, p.url)
  assert.notEqual(first, 'closed')
  assert.notEqual(second, 'closed')
  for (let i = 0; i < 4; i++) assert.equal(await attempt(t, p.url), 'closed')
  const refused = events.lines.filter((l) => l.message === 'connection refused')
  assert.equal(refused.length, 1)
  assert.equal(refused[0]!.details!.reason, 'client_full')
  assert.equal(refused[0]!.details!.client, '127.0.0.1')
  ;(first as Socket).destroy()
  await once(first as Socket, 'close')
  // The count drops when Portico sees the close; a retry loop waits for that event, not a time.
  let again: Socket | 'closed' = 'closed'
  for (let i = 0; i < 50 && again === 'closed'; i++) again = await attempt(t, p.url)
  assert.notEqual(again, 'closed')
})

test('max caps the open connections of a listener for all clients together', async (t) => {
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', connections: { max: 1 } }],
    routes: answer,
    pools: {},
  })
  assert.notEqual(await attempt(t, p.url), 'closed')
  assert.equal(await attempt(t, p.url), 'closed')
})

test('new_per_second_per_client refuses connections opened faster than the limit, even when the earlier ones closed', async (t) => {
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', connections: { new_per_second_per_client: 2 } }],
    routes: answer,
    pools: {},
  })
  for (let i = 0; i < 2; i++) {
    const s = await attempt(t, p.url)
    assert.notEqual(s, 'closed')
    ;(s as Socket).destroy()
  }
  assert.equal(await attempt(t, p.url), 'closed')
})

/** A PROXY v1 header naming `ip` as the client. */
const proxyV1 = (ip: string) => `PROXY TCP4 ${ip} 192.0.2.1 40000 443\r\n`

test('behind the PROXY protocol the per-client limit counts the address the header names', async (t) => {
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', proxy_protocol: true, connections: { max_per_client: 1 } }],
    trusted_proxies: ['127.0.0.1'],
    routes: answer,
    pools: {},
  })
  assert.notEqual(await attempt(t, p.url, proxyV1('198.51.100.1')), 'closed')
  assert.notEqual(await attempt(t, p.url, proxyV1('198.51.100.2')), 'closed')
  assert.equal(await attempt(t, p.url, proxyV1('198.51.100.1')), 'closed')
})

test('listener client lists close denied connections at accept: CIDRs, v4-mapped v6 and countries', async (t) => {
  const denyLocal = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', clients: { deny: ['10.0.0.0/8', '::ffff:127.0.0.0/104'] } }],
    routes: answer,
    pools: {},
  })
  assert.equal(await attempt(t, denyLocal.url), 'closed')
  const allowOther = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', clients: { allow: ['2001:db8::/32', '10.0.0.0/8'] } }],
    routes: answer,
    pools: {},
  })
  assert.equal(await attempt(t, allowOther.url), 'closed')
  const allowLocal = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', clients: { allow: ['127.0.0.1'] } }],
    routes: answer,
    pools: {},
  })
  assert.notEqual(await attempt(t, allowLocal.url), 'closed')
  // Addresses the embedded database places in Germany and France.
  const byCountry = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', proxy_protocol: true, clients: { deny: ['DE'] } }],
    trusted_proxies: ['127.0.0.1'],
    routes: answer,
    pools: {},
  })
  assert.equal(await attempt(t, byCountry.url, proxyV1('85.214.1.1')), 'closed')
  assert.notEqual(await attempt(t, byCountry.url, proxyV1('193.51.224.1')), 'closed')
})

test('with workers: 2 each worker keeps its share of max_per_client, so the instance holds the limit', {
  timeout: 60_000,
}, async (t) => {
  const p = await spawnPortico(
    t,
    [
      'run',
      '-c',
      writeConfig({
        listeners: [{ address: '127.0.0.1:0', connections: { max_per_client: 2 } }],
        routes: answer,
        pools: {},
        workers: 2,
      }),
    ],
    { listeners: 1 },
  )
  const url = p.urls[0]!
  let served = 0
  for (let i = 0; i < 12; i++) if ((await attempt(t, url)) !== 'closed') served++
  // One per worker: without the split each worker would take two, up to four in all.
  assert.ok(served >= 1 && served <= 2, `served ${served}`)
})

/** Resolves whether a TLS handshake with `url` completes before the connection closes. */
function handshake(t: TestContext, url: string, ca: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  const socket = connectTls({ host: hostname, port: Number(port), servername: 'localhost', ca })
  t.after(() => socket.destroy())
  return new Promise((resolve) => {
    socket.once('secureConnect', () => resolve(true))
    socket.once('error', () => resolve(false))
    socket.once('close', () => resolve(false))
  })
}

test('on a TLS listener a connection past the limit is closed before any handshake', async (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] }, connections: { max_per_client: 1 } }],
    routes: answer,
    pools: {},
  })
  const caPem = readFileSync(ca.cert, 'utf8')
  assert.equal(await handshake(t, p.url, caPem), true)
  assert.equal(await handshake(t, p.url, caPem), false)
})
