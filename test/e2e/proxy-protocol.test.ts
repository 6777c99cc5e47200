import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get, rawHttp } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

// Addresses the embedded database places in Germany and France.
const german = '85.214.1.1'
const french = '193.51.224.1'

const routes = [
  { match: { country: 'DE' }, respond: { body: 'de {client_ip}' } },
  { match: { country: 'FR' }, respond: { body: 'fr {client_ip}' } },
  { respond: { body: 'elsewhere {client_ip}' } },
]

const http = (path = '/') => `GET ${path} HTTP/1.1\r\nhost: a\r\n\r\n`
const closing = `GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`

/** A PROXY v2 header for a TCP connection from `ip` (v4 or v6) to 192.0.2.1:443. */
function v2(ip: string, port: number): Buffer {
  const v6 = ip.includes(':')
  const body = Buffer.alloc(v6 ? 36 : 12)
  if (v6) {
    const groups = ip.split(':')
    for (const [i, g] of groups.entries()) body.writeUInt16BE(Number.parseInt(g, 16), i * 2)
    body.writeUInt16BE(port, 32)
    body.writeUInt16BE(443, 34)
  } else {
    for (const [i, n] of ip.split('.').entries()) body.writeUInt8(Number(n), i)
    Buffer.from([192, 0, 2, 1]).copy(body, 4)
    body.writeUInt16BE(port, 8)
    body.writeUInt16BE(443, 10)
  }
  const head = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')
  const rest = Buffer.from([0x21, v6 ? 0x21 : 0x11, 0, body.length])
  return Buffer.concat([head, rest, body])
}

async function start(t: Parameters<typeof startPortico>[0], trusted: string[]) {
  return startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', proxy_protocol: true }],
    trusted_proxies: trusted,
    pools: {},
    routes,
  })
}

test('a PROXY v1 header from a trusted load balancer gives the client, and its country routes', async (t) => {
  const proxy = await start(t, ['127.0.0.1'])
  const out = await rawHttp(proxy.url, `PROXY TCP4 ${german} 192.0.2.1 51234 443\r\n${closing}`)
  assert.match(out, /^HTTP\/1\.1 200 /)
  assert.ok(out.endsWith(`de ${german}`), out)
})

test('a PROXY v2 header (IPv4 and IPv6) from a trusted load balancer gives the client', async (t) => {
  const proxy = await start(t, ['127.0.0.1'])
  const v4 = await rawHttp(proxy.url, Buffer.concat([v2(french, 40000), Buffer.from(closing)]))
  assert.ok(v4.endsWith(`fr ${french}`), v4)
  const v6 = await rawHttp(proxy.url, Buffer.concat([v2('2a01:4f8:0:0:0:0:0:1', 40000), Buffer.from(closing)]))
  assert.match(v6, /de 2a01:4f8::1$/)
})

test('keep-alive requests after the PROXY header all count as that client', async (t) => {
  const proxy = await start(t, ['127.0.0.1'])
  const out = await rawHttp(
    proxy.url,
    `PROXY TCP4 ${german} 192.0.2.1 51234 443\r\n${http('/1')}${http('/2')}${closing}`,
  )
  assert.equal(out.match(new RegExp(`de ${german.replaceAll('.', '\\.')}`, 'g'))?.length, 3, out)
})

test('a PROXY header from an untrusted client is ignored: it cannot claim a country', async (t) => {
  const proxy = await start(t, ['10.0.0.0/8'])
  const v1 = await rawHttp(proxy.url, `PROXY TCP4 ${german} 192.0.2.1 51234 443\r\n${closing}`)
  assert.ok(v1.endsWith('elsewhere 127.0.0.1'), v1)
  const bin = await rawHttp(proxy.url, Buffer.concat([v2(french, 1), Buffer.from(closing)]))
  assert.ok(bin.endsWith('elsewhere 127.0.0.1'), bin)
})

test('a proxy_protocol listener closes connections without a valid header', async (t) => {
  const proxy = await start(t, ['127.0.0.1'])
  assert.equal(await rawHttp(proxy.url, closing), '')
  assert.equal(await rawHttp(proxy.url, `PROXY TCP4 not-an-ip 192.0.2.1 1 2\r\n${closing}`), '')
  assert.equal(await rawHttp(proxy.url, `PROXY ${'x'.repeat(200)}`), '')
})

test('a PROXY header does not reach the backend, and request bodies pass intact', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => res.end(`${req.headers['x-forwarded-for']} ${Buffer.concat(chunks)}`))
  })
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', proxy_protocol: true }],
    trusted_proxies: ['127.0.0.1'],
    pools: { echo: { servers: [backend.address] } },
    routes: [{ pool: 'echo' }],
  })
  const body = 'x'.repeat(100_000)
  const out = await rawHttp(
    proxy.url,
    `PROXY TCP4 ${german} 192.0.2.1 51234 443\r\nPOST / HTTP/1.1\r\nhost: a\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  )
  assert.ok(out.endsWith(`${german} ${body}`), out.slice(0, 200))
  // A plain listener next to it is unaffected.
  const plain = await startPortico(t, { pools: { echo: { servers: [backend.address] } }, routes: [{ pool: 'echo' }] })
  assert.equal((await get(plain.url)).body, '127.0.0.1 ')
})

test('a PROXY header split over several packets is reassembled; a silent connection is closed', async (t) => {
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', proxy_protocol: true }],
    trusted_proxies: ['127.0.0.1'],
    timeouts: { request_headers: '300ms' },
    pools: {},
    routes,
  })
  const { port } = new URL(proxy.url)
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  const header = v2(german, 1234)
  const received: Buffer[] = []
  socket.on('data', (c: Buffer) => received.push(c))
  for (const part of [header.subarray(0, 5), header.subarray(5, 14), header.subarray(14), Buffer.from(closing)]) {
    await new Promise((resolve) => socket.write(part, resolve))
    await new Promise((resolve) => setImmediate(resolve))
  }
  await once(socket, 'close')
  assert.ok(Buffer.concat(received).toString().endsWith(`de ${german}`))

  const silent = connect(Number(port), '127.0.0.1')
  silent.on('error', () => {})
  const started = performance.now()
  await once(silent, 'close')
  assert.ok(performance.now() - started >= 250)
})
