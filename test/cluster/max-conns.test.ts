import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { connect } from 'node:http2'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

/** Two workers in front of one server with `max_conns`, h2c on the listener so that one session stays on one worker. */
function limited(server: string, maxConns: number) {
  return writeConfig({
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [{ address: server, max_conns: maxConns }], limits: { queue_timeout: '30s' } } },
    routes: [{ pool: 'web' }],
    workers: 2,
    access_log: { output: 'off' },
  })
}

test('max_conns holds for the instance: 2 workers, 40 concurrent clients, never more than 2 at the backend, all served (#21)', {
  timeout: 60_000,
}, async (t) => {
  let now = 0
  let most = 0
  const backend = await startBackend(t, 'slow', (_req, res) => {
    most = Math.max(most, ++now)
    setTimeout(() => {
      now--
      res.end('done')
    }, 20)
  })
  const p = await spawnPortico(t, ['run', '-c', limited(backend.address, 2)], { listeners: 1 })
  await p.waitFor(/"workers started"/)
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all(Array.from({ length: 40 }, () => get(p.urls[0]!)))
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(40).fill(200),
    )
  }
  assert.equal(most, 2)
})

test('a worker whose share of max_conns is busy borrows the slot another worker does not use (#21)', {
  timeout: 60_000,
}, async (t) => {
  const held: ServerResponse[] = []
  let inFlight = 0
  let most = 0
  const arrived = new EventTarget()
  const backend = await startBackend(t, 'held', (_req, res) => {
    most = Math.max(most, ++inFlight)
    res.on('finish', () => inFlight--)
    held.push(res)
    arrived.dispatchEvent(new Event('request'))
  })
  t.after(() => {
    for (const res of held) res.end()
  })
  const p = await spawnPortico(t, ['run', '-c', limited(backend.address, 2)], { listeners: 1 })
  await p.waitFor(/"workers started"/)
  // One HTTP/2 session: every stream goes to the one worker that accepted it, whose share is 1 slot.
  const session = connect(p.urls[0]!)
  t.after(() => session.close())
  const arrivals = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (held.length >= n) {
          arrived.removeEventListener('request', check)
          resolve()
        }
      }
      arrived.addEventListener('request', check)
      check()
    })
  const streams = Array.from({ length: 3 }, () => {
    const stream = session.request({ ':path': '/' })
    let body = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => (body += chunk))
    return once(stream, 'end').then(() => body)
  })
  await arrivals(2)
  held[0]!.end('one')
  await arrivals(3)
  held[1]!.end('two')
  held[2]!.end('three')
  assert.deepEqual((await Promise.all(streams)).sort(), ['one', 'three', 'two'])
  assert.equal(most, 2)
})
