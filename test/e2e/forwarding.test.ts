import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

test('round_robin sends consecutive requests to each server in turn', async (t) => {
  const servers = await Promise.all(['a', 'b', 'c'].map(async (n) => (await startBackend(t, n)).address))
  const proxy = await startPortico(t, {
    pools: { web: { balancer: 'round_robin', servers } },
    routes: [{ pool: 'web' }],
  })
  const seen = []
  for (let i = 0; i < 6; i++) seen.push((await get(proxy.url)).headers['x-backend'])
  assert.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c'])
})
