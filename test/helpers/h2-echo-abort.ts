/**
 * Runs on its own as a child process of a test: Portico in this process, in front of an h2c
 * backend that echoes the request body, takes 5 MiB uploads from HTTP/1.1 clients that leave after
 * reading about 500 KB of the echo. Prints the RST_STREAM code each backend stream got, then
 * `rounds done`, and exits 0 when every round ends with the event loop still turning; a watchdog thread kills the process (exit by SIGKILL) and says
 * `event loop stalled` when the loop stops for 2 s.
 */
import { once } from 'node:events'
import { writeSync } from 'node:fs'
import { createServer, connect as h2Connect } from 'node:http2'
import { type AddressInfo, connect } from 'node:net'
import { Worker } from 'node:worker_threads'
import { configSchema } from '../../src/config/schema.ts'
import { startPortico } from '../../src/portico.ts'

const rounds = 3
// `upload`: the backend never reads nor answers, and the client leaves once 1 MiB of its body is written.
const upload = process.argv[2] === 'upload'
// `h2-client`: the client speaks HTTP/2 (h2c) to Portico, resets its stream and closes its connection.
const h2Client = process.argv[2] === 'h2-client'
const size = 5 * 1024 * 1024
const readBeforeLeaving = 500_000

// The main thread stamps the time; the watchdog reads it from another thread, which runs on when this one is stuck.
const beat = new Int32Array(new SharedArrayBuffer(4))
const stamp = () => Atomics.store(beat, 0, Date.now() % 2 ** 30)
stamp()
setInterval(stamp, 100).unref()
const watchdog = new Worker(
  `const { workerData: beat } = require('node:worker_threads')
  setInterval(() => {
    if ((Date.now() % 2 ** 30) - Atomics.load(beat, 0) > 2000) {
      require('node:fs').writeSync(2, 'event loop stalled\\n')
      process.kill(process.pid, 'SIGKILL')
    }
  }, 200)`,
  { eval: true, workerData: beat },
)
watchdog.unref()

// How each request's stream ended at the backend: the RST_STREAM code it got (0 when none).
const resets: number[] = []
// With `h2-client`: how long after its client left each backend stream ended, in milliseconds.
const delays: number[] = []
let leftAt = 0
let streamEnded = () => {}
const backend = createServer((req, res) => {
  req.stream.once('close', () => {
    resets.push(req.stream.rstCode ?? 0)
    if (h2Client) delays.push(Math.round(performance.now() - leftAt))
    streamEnded()
  })
  if (!upload) req.pipe(res)
})
backend.listen(0, '127.0.0.1')
await once(backend, 'listening')
const portico = await startPortico(
  configSchema.parse({
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    access_log: { output: 'off' },
    pools: { echo: { servers: [`127.0.0.1:${(backend.address() as AddressInfo).port}`], protocol: 'h2' } },
    routes: [{ pool: 'echo' }],
  }),
)
const port = Number(new URL(portico.urls[0]!).port)

for (let round = 0; round < rounds; round++) {
  if (h2Client) {
    const session = h2Connect(`http://127.0.0.1:${port}`)
    session.on('error', () => {})
    const stream = session.request({ ':method': 'POST', ':path': '/echo', 'content-length': String(size) })
    stream.on('error', () => {})
    stream.end(Buffer.alloc(size, 'a'))
    let read = 0
    for await (const chunk of stream) {
      read += (chunk as Buffer).length
      if (read > readBeforeLeaving) break
    }
    const ended = new Promise<void>((resolve) => {
      streamEnded = resolve
      if (resets.length > round) resolve()
    })
    stream.destroy()
    session.destroy()
    leftAt = performance.now()
    // The next client comes once this one's backend stream has ended, or after 10 s.
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 10_000).unref())])
    continue
  }
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  socket.write(`POST /echo HTTP/1.1\r\nhost: echo\r\ncontent-length: ${size}\r\n\r\n`)
  if (upload) {
    await new Promise((resolve) => socket.write(Buffer.alloc(1024 * 1024, 'a'), resolve))
  } else {
    socket.write(Buffer.alloc(size, 'a'))
    let read = 0
    for await (const chunk of socket) {
      read += (chunk as Buffer).length
      if (read > readBeforeLeaving) break
    }
  }
  socket.destroy()
  // A turn of the timers after the client left: Portico must still answer them.
  await new Promise((resolve) => setTimeout(resolve, 500))
}
if (!upload) {
  // Each stream Portico gives up ends at the backend too, though maybe only after the loop above.
  const until = Date.now() + 10_000
  while (resets.length < rounds && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  writeSync(1, `backend streams reset: ${resets.join(',')}\n`)
  if (h2Client) writeSync(1, `backend streams ended after ms: ${delays.join(',')}\n`)
}
writeSync(1, 'rounds done\n')
await portico.close(0)
backend.close()
process.exit(0)
