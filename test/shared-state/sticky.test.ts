import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { quietListener, uniquePrefix } from '../helpers/redis.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

test('a client pinned by one instance keeps its server on another that signs cookies with another key', {
  timeout: 60_000,
}, async (t) => {
  const backends = await Promise.all(['a', 'b'].map((n) => startBackend(t, n)))
  // No `secret`: each instance makes its own key, so their cookie values differ.
  const file = writeConfig({
    ...quietListener,
    workers: 1,
    pools: { web: { balancer: 'sticky', servers: backends.map((b) => b.address) } },
    redis: { key_prefix: uniquePrefix('sticky'), timeout: '5s', share: ['sticky'] },
    routes: [{ pool: 'web' }],
  })
  const a = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  await a.waitFor(/"known":2,"msg":"sticky pins shared"/)
  const b = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  // Its own two pins and the first instance's two.
  await b.waitFor(/"known":4,"msg":"sticky pins shared"/)

  const pinned = new Map<string, string>()
  for (let i = 0; i < 2; i++) {
    const reply = await get(a.urls[0]!)
    pinned.set(reply.body, String(reply.headers['set-cookie']).split(';')[0]!)
  }
  assert.deepEqual([...pinned.keys()].sort(), ['a', 'b'])
  for (const [server, cookie] of pinned) {
    for (let i = 0; i < 3; i++) {
      const reply = await get(b.urls[0]!, { cookie })
      assert.equal(reply.body, server)
      assert.equal(reply.headers['set-cookie'], undefined, 'the pin is kept, not replaced')
    }
  }
})
