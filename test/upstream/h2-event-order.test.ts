import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import { type AddressInfo, connect as tcpConnect } from 'node:net'
import { Duplex } from 'node:stream'
import { test } from 'node:test'
import { eventsInOrder } from '../../src/upstream/h2-event-order.ts'

test("a backend stream emits its first DATA after 'response', also when both come in one read on JS's stack", {
  timeout: 30_000,
}, async (t) => {
  eventsInOrder()
  // The answer's head and first bytes leave in one write, before the request body ends.
  const server = createServer((req: Http2ServerRequest, res: Http2ServerResponse) => {
    res.writeHead(200)
    res.write('first;')
    req.resume()
    req.on('end', () => res.end('rest'))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  // A connection of JS's own, as a TLS socket's can be: node reads the session's input inside its
  // 'data' events, so the HEADERS and the DATA of one read are handled before the next tick, where
  // node emits 'response'.
  const socket = tcpConnect(port, '127.0.0.1')
  const wrapped = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _encoding, done) => void socket.write(chunk, done),
    final: (done) => void socket.end(done),
  })
  socket.on('data', (chunk: Buffer) => wrapped.push(chunk) || socket.pause())
  socket.on('end', () => wrapped.push(null))
  const session = connect(`http://127.0.0.1:${port}`, { createConnection: () => wrapped })
  t.after(() => {
    session.destroy()
    socket.destroy()
    server.close()
  })
  for (let round = 0; round < 5; round++) {
    const stream = session.request({ ':method': 'POST' })
    const seen: string[] = []
    // Listening for 'data' before 'response', as undici does while it sends a request body from a stream.
    stream.on('data', (chunk: Buffer) => seen.push(`data ${chunk}`))
    stream.on('response', () => seen.push('response'))
    stream.write('body')
    await once(stream, 'response')
    stream.end()
    await once(stream, 'end')
    assert.deepEqual(seen, ['response', 'data first;', 'data rest'], `round ${round}`)
  }
})
