import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get, rawHttp } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

test('rewrite strips a prefix on whole segments and keeps the query', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => res.end(req.url))
  const proxy = await startPortico(t, {
    pools: { api: { servers: [backend.address] } },
    routes: [{ match: { path: '/api' }, rewrite: { strip_prefix: '/api' }, pool: 'api' }],
  })
  assert.equal((await get(`${proxy.url}/api/users?page=2`)).body, '/users?page=2')
  assert.equal((await get(`${proxy.url}/api`)).body, '/')
  assert.equal((await get(`${proxy.url}/api?x=1`)).body, '/?x=1')
  assert.equal((await get(`${proxy.url}/apix`)).status, 404)
})

test('rewrite replaces by regex with numbered and named groups', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => res.end(req.url))
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [
      {
        match: { path: '/old' },
        rewrite: { regex: '^/old/(\\w+)/(?<rest>.*)$', replace: '/new/$<rest>/$1' },
        pool: 'web',
      },
      { rewrite: { regex: '^/v1/', replace: '/v2/' }, pool: 'web' },
    ],
  })
  assert.equal((await get(`${proxy.url}/old/a/b/c?q=1`)).body, '/new/b/c/a?q=1')
  assert.equal((await get(`${proxy.url}/v1/items`)).body, '/v2/items')
  assert.equal((await get(`${proxy.url}/other`)).body, '/other')
})

test('a rewrite works on the path as routes see it, so dot segments cannot dodge it', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => res.end(req.url))
  const proxy = await startPortico(t, {
    pools: { api: { servers: [backend.address] } },
    routes: [{ match: { path: '/api' }, rewrite: { strip_prefix: '/api' }, pool: 'api' }],
  })
  const out = await rawHttp(proxy.url, 'GET /x/../api/%75sers HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n')
  assert.ok(out.endsWith('\r\n\r\n/users'), out)
})

test('a split rewrites before it forwards', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => res.end(req.url))
  const proxy = await startPortico(t, {
    pools: { a: { servers: [backend.address] } },
    routes: [{ rewrite: { strip_prefix: '/app' }, split: { pools: [{ pool: 'a', weight: 1 }] } }],
  })
  assert.equal((await get(`${proxy.url}/app/x`)).body, '/x')
})
