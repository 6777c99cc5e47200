import WebSocket from 'ws'

/**
 * WebSocket echo load, run as its own process: `ws-load.ts URL CONNECTIONS SECONDS BYTES`. Each
 * connection sends a message, waits for its echo, and sends the next; prints messages per second
 * and round-trip percentiles as one JSON line.
 */
const [url, connections, seconds, bytes] = process.argv.slice(2)
const payload = Buffer.alloc(Number(bytes), 'w')
const rtts: number[] = []
let errors = 0
let running = true

const sockets = await Promise.all(
  Array.from(
    { length: Number(connections) },
    () =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(url!, { perMessageDeflate: false })
        socket.once('open', () => resolve(socket))
        socket.once('error', reject)
      }),
  ),
)
const start = performance.now()
for (const socket of sockets) {
  let sentAt = performance.now()
  socket.on('error', () => errors++)
  socket.on('message', () => {
    const now = performance.now()
    rtts.push(now - sentAt)
    if (!running) return
    sentAt = now
    socket.send(payload)
  })
  socket.send(payload)
}
setTimeout(() => {
  running = false
  const elapsed = (performance.now() - start) / 1000
  for (const socket of sockets) socket.terminate()
  rtts.sort((a, b) => a - b)
  const at = (q: number) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))] ?? Number.NaN
  const result = { requests: rtts.length, rps: rtts.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99), errors }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}, Number(seconds) * 1000)
