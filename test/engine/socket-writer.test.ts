import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { type TestContext, test } from 'node:test'
import { SocketWriter } from '../../src/engine/socket-writer.ts'
import { closedPort } from '../helpers/closed-port.ts'

/** Both ends of a loopback TCP connection: `writer` writes, `reader` reads. */
async function socketPair(t: TestContext): Promise<{ writer: Socket; reader: Socket }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const writer = connect(port, '127.0.0.1')
  await once(writer, 'connect')
  const [reader] = await accepted
  t.after(() => {
    writer.destroy()
    reader.destroy()
    server.close()
  })
  return { writer, reader }
}

/** Everything `socket` receives until its peer ends, as latin1. */
async function readAll(socket: Socket): Promise<string> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  await once(socket, 'end')
  return Buffer.concat(chunks).toString('latin1')
}

test('a write the kernel takes at once reaches the reader, strings and buffers alike', async (t) => {
  const { writer, reader } = await socketPair(t)
  const out = new SocketWriter(writer)
  const received = readAll(reader)
  assert.equal(out.write('HTTP/1.1 200 OK\r\n'), true)
  assert.equal(out.writev(['content-length: 3\r\n\r\n', 'latin1', Buffer.from('abc'), 'buffer']), true)
  assert.equal(out.write(Buffer.from('\xe9', 'latin1')), true)
  assert.equal(out.inFlight, 0)
  writer.end()
  assert.equal(await received, 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc\xe9')
})

test('writes to a reader that does not read are queued in order and reported once sent', async (t) => {
  const { writer, reader } = await socketPair(t)
  reader.pause()
  const out = new SocketWriter(writer)
  const big = Buffer.alloc(1 << 20, 'x')
  const expected: string[] = []
  let writes = 0
  // Fill the kernel's buffers: the first write it does not take whole is queued by libuv.
  while (out.write(big)) {
    expected.push(big.toString('latin1'))
    assert.ok(++writes < 256, 'the kernel took 256 MiB without a reader')
  }
  expected.push(big.toString('latin1'))
  assert.ok(out.inFlight > 0)
  const sent: string[] = []
  assert.equal(
    out.writev(['queued ', 'latin1', Buffer.from('vector'), 'buffer'], () => sent.push('writev')),
    false,
  )
  writer.write(' through the stream')
  // The stream holds a write of its own now, so this one follows it through the stream.
  assert.equal(
    out.write(' last', () => sent.push('write')),
    false,
  )
  expected.push('queued vector through the stream last')
  let allSent = false
  assert.equal(
    out.whenSent(() => {
      allSent = true
    }),
    false,
  )

  const received = readAll(reader)
  reader.resume()
  await new Promise<void>((resolve) => writer.end(resolve))
  assert.equal(await received, expected.join(''))
  assert.deepEqual(sent, ['writev', 'write'])
  assert.equal(allSent, true)
  assert.equal(out.inFlight, 0)
})

test('whenSent answers at once when nothing is queued', async (t) => {
  const { writer } = await socketPair(t)
  const out = new SocketWriter(writer)
  assert.equal(out.write('ping'), true)
  assert.equal(
    out.whenSent(() => assert.fail('nothing was queued')),
    true,
  )
})

test('a write after the peer has reset the connection destroys the socket with the write error', async (t) => {
  const { writer, reader } = await socketPair(t)
  const out = new SocketWriter(writer)
  const failed = once(writer, 'error') as Promise<[NodeJS.ErrnoException]>
  // The reset is sent as the reader's socket closes, before the writer's side can read it.
  reader.resetAndDestroy()
  assert.equal(out.write('after the reset'), false)
  const [error] = await failed
  assert.ok(['EPIPE', 'ECONNRESET'].includes(error.code ?? ''), `unexpected ${error.code}`)
  assert.equal(error.syscall, 'write')
  assert.equal(writer.destroyed, true)
})

test('writes to a socket that is still connecting go through the stream, in order', async (t) => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1')
  t.after(() => socket.destroy())
  const out = new SocketWriter(socket)
  let sent = false
  assert.equal(out.write('GET / HTTP/1.1\r\n'), false)
  assert.equal(
    out.writev(['host: a\r\n', 'latin1', Buffer.from('\r\n'), 'buffer'], () => {
      sent = true
    }),
    false,
  )
  socket.end()
  const [peer] = await accepted
  assert.equal(await readAll(peer), 'GET / HTTP/1.1\r\nhost: a\r\n\r\n')
  assert.equal(sent, true)
})

test('a write through the stream that fails is never reported sent (#21)', async () => {
  const [host, port] = (await closedPort()).split(':')
  const socket = connect(Number(port), host)
  socket.on('error', () => {})
  const out = new SocketWriter(socket)
  const sent: string[] = []
  assert.equal(
    out.write('GET / HTTP/1.1\r\n', () => sent.push('write')),
    false,
  )
  assert.equal(
    out.writev(['host: a\r\n', 'latin1', Buffer.from('\r\n'), 'buffer'], () => sent.push('writev')),
    false,
  )
  // `once` would reject on the connect error that comes first.
  await new Promise((resolve) => socket.on('close', resolve))
  assert.deepEqual(sent, [])
})
