import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { Writable } from 'node:stream'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { listenClosing } from '../helpers/listen-sessions.ts'
import { startPortico } from '../helpers/portico.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const body = randomBytes(4 * 1024 * 1024)
/** Small writes: over HTTP/1.1 one socket read of the backend's answer holds many chunks. */
const piece = 4 * 1024

/** Whether the backend has written the whole body. */
let sent = false

/**
 * A backend answer handler that sends `body` as fast as it may, and tells `backpressure` each time
 * the proxy made it wait (true) and let it go on (false), and once more (false) when all is written.
 */
function sender(backpressure: (waiting: boolean) => void) {
  return (_req: unknown, res: Writable) => {
    void (async () => {
      for (let at = 0; at < body.length; at += piece) {
        if (!res.write(body.subarray(at, at + piece))) {
          backpressure(true)
          await once(res, 'drain')
          backpressure(false)
        }
      }
      sent = true
      backpressure(false)
      res.end()
    })()
  }
}

function startH2cBackend(t: TestContext, handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void) {
  return listenClosing(t, createServer({ settings: { initialWindowSize: 1024 * 1024 } }, handler))
}

for (const kind of ['HTTP/1.1', 'h2c'] as const) {
  test(`an HTTP/1.1 client that stops reading from an ${kind} backend gets the whole body, and Portico waits on one 'drain' at a time`, {
    timeout: 60_000,
  }, async (t) => {
    // Whether the backend waits for Portico now, and who waits for that to change.
    let waiting = false
    let onChange: (() => void) | undefined
    const handler = sender((now) => {
      waiting = now
      onChange?.()
    })
    // Resolves once the backend waits (true) or may go on (false), or has written everything.
    sent = false
    const until = (state: boolean) =>
      waiting === state || sent
        ? undefined
        : new Promise<void>((resolve) => {
            onChange = () => (waiting === state || sent) && resolve()
          })
    const address =
      kind === 'h2c'
        ? await startH2cBackend(t, handler as never)
        : (await startBackend(t, 'h1', handler as never)).address
    const proxy = await startPortico(t, {
      pools: { b: { servers: [address], ...(kind === 'h2c' ? { protocol: 'h2' as const } : {}) } },
      routes: [{ match: { path: '/' }, pool: 'b' }],
    })
    // A 'drain' listener left behind per write shows as node's warning of a listener leak.
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    t.after(() => process.off('warning', onWarning))

    const req = httpRequest(`${proxy.url}/`)
    req.end()
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    // The client stops reading until the backend is held back, then reads until the backend may
    // send again, three times over.
    for (let stop = 0; stop < 3 && !res.readableEnded; stop++) {
      res.pause()
      await until(true)
      res.resume()
      await until(false)
    }
    onChange = undefined
    if (!res.readableEnded) await once(res, 'end')
    // node emits its warning on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    const got = Buffer.concat(chunks)
    assert.equal(got.length, body.length, 'body size')
    assert.equal(sha256(got), sha256(body), 'body sha256')
    assert.deepEqual(
      warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
      [],
    )
  })
}
