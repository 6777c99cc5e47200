import assert from 'node:assert/strict'
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { type TestContext, test } from 'node:test'
import { installChain, type Link } from '../../src/listen/chain.ts'

/** A link that notes its name, then passes the connection on. */
function noting(seen: string[], name: string): Link {
  return (next) => (socket) => {
    seen.push(name)
    next(socket)
  }
}

/** A plain server whose own 'connection' listener stands for node's HTTP/1.1 server; `done` once it got a connection. */
function plainServer(t: TestContext, seen: string[], done: () => void) {
  const server = createServer((socket: Socket) => {
    seen.push('node')
    socket.destroy()
    done()
  })
  t.after(() => server.close())
  return server
}

/** Listens on port 0, connects once, and resolves when that connection has closed. */
async function connectTo(server: ReturnType<typeof createServer>): Promise<void> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  client.on('error', () => {})
  await once(client, 'close')
}

test('a plain connection passes PROXY protocol, the gate, h2c sniffing and the own server, in that order, before node', async (t) => {
  const seen: string[] = []
  const { promise, resolve } = Promise.withResolvers<void>()
  const server = plainServer(t, seen, resolve)
  installChain(server, {
    // Listed out of order on purpose: the chain's order is its own, not the order links are given in.
    own: noting(seen, 'own'),
    h2c: noting(seen, 'h2c'),
    gate: noting(seen, 'gate'),
    proxyProtocol: noting(seen, 'proxy protocol'),
    tls: false,
  })
  await connectTo(server)
  await promise
  assert.deepEqual(seen, ['proxy protocol', 'gate', 'h2c', 'own', 'node'])
})

test('a link left out is skipped, and a link that keeps a connection ends the chain there', async (t) => {
  const seen: string[] = []
  const server = plainServer(t, seen, () => {})
  const kept = Promise.withResolvers<void>()
  installChain(server, {
    gate: () => (socket) => {
      seen.push('gate')
      socket.destroy()
      kept.resolve()
    },
    own: noting(seen, 'own'),
    tls: false,
  })
  await connectTo(server)
  await kept.promise
  assert.deepEqual(seen, ['gate'])
})
