import assert from 'node:assert/strict'
import { test } from 'node:test'
import { get, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

test('redirect answers with its status and a Location built from variables and captures', async (t) => {
  const proxy = await startPortico(t, {
    pools: {},
    trusted_proxies: ['127.0.0.1'],
    routes: [
      {
        match: { path: { regex: '^/blog/(?<year>\\d{4})/(.+)$' } },
        redirect: { to: 'https://blog.{host}/{year}/{2}', status: 301 },
      },
      {
        match: { host: { regex: '^(?<name>[a-z]+)\\.old\\.test$' } },
        redirect: { to: 'https://{name}.new.test{request_uri}', status: 308 },
      },
      { match: { path: '/geo' }, redirect: { to: '/{country}/home?from={client_ip}' } },
      { redirect: { to: 'https://{host}{request_uri}' } },
    ],
  })
  const blog = await get(`${proxy.url}/blog/2024/hello-world`, { host: 'example.com' })
  assert.equal(blog.status, 301)
  assert.equal(blog.headers.location, 'https://blog.example.com/2024/hello-world')
  assert.ok(blog.headers['x-request-id'])

  const moved = await request(`${proxy.url}/a/b?c=d`, { method: 'POST', headers: { host: 'shop.old.test' }, body: 'x' })
  assert.equal(moved.status, 308)
  assert.equal(moved.headers.location, 'https://shop.new.test/a/b?c=d')

  const geo = await get(`${proxy.url}/geo`, { 'x-forwarded-for': '85.214.1.1' })
  assert.equal(geo.status, 302)
  assert.equal(geo.headers.location, '/DE/home?from=85.214.1.1')

  const https = await get(`${proxy.url}/x?y=1`, { host: 'site.test:8080' })
  assert.equal(https.status, 302)
  assert.equal(https.headers.location, 'https://site.test/x?y=1')
  assert.equal(https.body, 'Redirecting to https://site.test/x?y=1\n')
})
