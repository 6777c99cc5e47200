import { EventEmitter, once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import type { TestContext } from 'node:test'

/** A raw TCP backend that keeps every byte it receives, for tests of what can reach a backend. */
export interface RecordingBackend {
  readonly address: string
  /** Every byte received so far, on every connection in the order it came, as latin1 text. */
  received(): string
  /** How many TCP connections it accepted. */
  accepted(): number
  /** How many of them are still open. */
  open(): number
  /** Resolves once `done()` holds, checked now and after every chunk received and every connection closed. */
  until(done: () => boolean): Promise<void>
}

/**
 * Starts a recording backend on a free loopback port, closed when the test ends. `answer` runs for
 * each request head received (`index` counts heads on that connection, from 0), with `head` up to
 * its blank line; it writes what it likes to `socket`. Bodies are not parsed: bytes after a head
 * are read as the next head, and recorded all the same.
 */
export async function startRecordingBackend(
  t: TestContext,
  answer: (socket: Socket, head: string, index: number) => void,
): Promise<RecordingBackend> {
  const chunks: Buffer[] = []
  const sockets = new Set<Socket>()
  const changed = new EventEmitter()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      changed.emit('change')
    })
    let buffered = ''
    let index = 0
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      buffered += chunk.toString('latin1')
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end + 4)
        buffered = buffered.slice(end + 4)
        answer(socket, head, index++)
      }
      changed.emit('change')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const { port } = server.address() as { port: number }
  return {
    address: `127.0.0.1:${port}`,
    received: () => Buffer.concat(chunks).toString('latin1'),
    accepted: () => accepted,
    open: () => sockets.size,
    async until(done) {
      while (!done()) {
        t.signal.throwIfAborted()
        await once(changed, 'change', { signal: t.signal })
      }
    },
  }
}
