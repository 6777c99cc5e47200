import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

for (const action of ['drain', 'remove'] as const) {
  test(`${action} takes a server out of rotation without failing the request in flight to it`, async (t) => {
    const held: ServerResponse[] = []
    const a = await startBackend(t, 'a', (_req, res) => {
      res.setHeader('x-backend', 'a')
      held.push(res)
    })
    const b = await startBackend(t, 'b')
    t.after(() => {
      for (const res of held) res.end()
    })
    const proxy = await startPortico(t, {
      pools: { web: { servers: [a.address, b.address] } },
      routes: [{ pool: 'web' }],
    })
    const inFlight = get(proxy.url)
    await once(a.server, 'request')
    const pool = proxy.plan().pools.get('web')!
    assert.equal(pool[action](a.address), true)
    for (let i = 0; i < 4; i++) assert.equal((await get(proxy.url)).headers['x-backend'], 'b')
    held[0]!.end('finished')
    const r = await inFlight
    assert.equal(r.status, 200)
    assert.equal(r.body, 'finished')
    assert.equal(pool.servers.length, action === 'remove' ? 1 : 2)
    const state = pool.servers[0]!.state
    if (action === 'drain') assert.deepEqual([state.draining, state.reason?.source], [true, 'admin'])
  })
}

test('undrain puts a drained server back into rotation', async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const proxy = await startPortico(t, {
    pools: { web: { balancer: 'round_robin', servers: [a.address, b.address] } },
    routes: [{ pool: 'web' }],
  })
  const pool = proxy.plan().pools.get('web')!
  const seen = async () => {
    const names = []
    for (let i = 0; i < 4; i++) names.push((await get(proxy.url)).headers['x-backend'])
    return names.sort()
  }
  assert.equal(pool.drain(a.address), true)
  assert.deepEqual(await seen(), ['b', 'b', 'b', 'b'])
  assert.equal(pool.undrain(a.address), true)
  assert.deepEqual(await seen(), ['a', 'a', 'b', 'b'])
  assert.equal(pool.undrain('127.0.0.1:1'), false, 'no such server')
})
