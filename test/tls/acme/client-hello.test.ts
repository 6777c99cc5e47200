import assert from 'node:assert/strict'
import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { readClientHello } from '../../../src/tls/acme/client-hello.ts'

/** The first bytes a real TLS client sends with these options. */
async function helloBytes(options: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection')
  const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ...options })
  client.on('error', () => {})
  const [socket] = (await accepted) as [import('node:net').Socket]
  let bytes = Buffer.alloc(0)
  while (readClientHello(bytes) === 'incomplete')
    bytes = Buffer.concat([bytes, (await once(socket, 'data'))[0] as Buffer])
  client.destroy()
  socket.destroy()
  server.close()
  return bytes
}

test('a ClientHello gives its server name and the ALPN protocols it offers', async () => {
  const bytes = await helloBytes({ servername: 'A.Example.com', ALPNProtocols: ['acme-tls/1'] })
  assert.deepEqual(readClientHello(bytes), { servername: 'a.example.com', protocols: ['acme-tls/1'] })
  const plain = await helloBytes({ ALPNProtocols: ['h2', 'http/1.1'] })
  assert.deepEqual(readClientHello(plain), { servername: undefined, protocols: ['h2', 'http/1.1'] })
})

test('a ClientHello cut short needs more bytes, and bytes that are not TLS are left to others', async () => {
  const bytes = await helloBytes({ servername: 'a.test' })
  for (const length of [0, 3, 5, 40, bytes.length - 1])
    assert.equal(readClientHello(bytes.subarray(0, length)), 'incomplete')
  assert.equal(readClientHello(Buffer.from('GET / HTTP/1.1\r\n')), 'other')
  // A handshake record that is not a ClientHello, and a record longer than TLS allows.
  assert.equal(readClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])), 'other')
  assert.equal(readClientHello(Buffer.from([0x16, 3, 1, 0xff, 0xff])), 'other')
})
