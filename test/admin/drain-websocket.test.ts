import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { adminConfig, ctl, startAdminPortico } from '../helpers/admin.ts'

test('a drained server keeps its open WebSocket, which still relays, and is empty only once it closes', {
  timeout: 60_000,
}, async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)))
  t.after(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
  })
  const address = `127.0.0.1:${(wss.address() as AddressInfo).port}`
  const { url, admin, call } = await startAdminPortico(t, adminConfig([address]))
  const ws = new WebSocket(url.replace(/^http/, 'ws'))
  t.after(() => ws.terminate())
  await once(ws, 'open')

  const drained = await call('POST', `/pools/web/servers/${address}/drain`)
  assert.deepEqual([drained.body.draining, drained.body.in_flight, drained.body.empty], [true, 1, false])
  ws.send('still here')
  assert.equal(String((await once(ws, 'message'))[0]), 'still here')

  const waiting = await ctl(t, admin, ['drain', 'web', address, '--wait'])
  ws.close()
  const done = await waiting.exited
  assert.equal(done.code, 0, done.out)
  assert.match(done.out, /drained .*in_flight=0/)
})
