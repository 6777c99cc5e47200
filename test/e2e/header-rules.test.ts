import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

test('request header rules set, add and remove what the backend receives, with variables', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => {
    const seen: string[] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (/^x-/i.test(req.rawHeaders[i]!) && !/^x-forwarded|^x-request-id/i.test(req.rawHeaders[i]!))
        seen.push(`${req.rawHeaders[i]}=${req.rawHeaders[i + 1]}`)
    }
    res.setHeader('x-from-backend', 'yes')
    res.setHeader('x-internal', 'secret')
    res.end(`${seen.join('|')} id=${req.headers['x-request-id']}`)
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    trusted_proxies: ['127.0.0.1'],
    routes: [
      {
        match: { host: { regex: '^(?<tenant>\\w+)\\.example\\.test$' }, path: { regex: '^/items/(\\d+)$' } },
        pool: 'web',
        request_headers: {
          set: { 'X-Tenant': '{tenant}', 'X-Client': '{client_ip} {country}' },
          add: { 'X-Item': '{1}', 'X-Req': '{request_id}' },
          remove: ['x-debug'],
        },
        response_headers: {
          set: { 'x-served-for': '{host}' },
          add: { 'x-from-backend': 'also' },
          remove: ['x-internal'],
        },
      },
    ],
  })
  const res = await get(`${proxy.url}/items/7`, {
    host: 'acme.example.test',
    'x-tenant': 'spoofed',
    'x-debug': '1',
    'x-forwarded-for': '193.51.224.1',
  })
  const id = res.headers['x-request-id']
  assert.equal(res.body, `X-Tenant=acme|X-Client=193.51.224.1 FR|X-Item=7|X-Req=${id} id=${id}`)
  assert.equal(res.headers['x-served-for'], 'acme.example.test')
  assert.equal(res.headers['x-from-backend'], 'yes, also')
  assert.equal(res.headers['x-internal'], undefined)
})

test('response header rules also apply to the answers Portico makes itself', async (t) => {
  const proxy = await startPortico(t, {
    pools: {},
    routes: [
      {
        match: { path: '/r' },
        redirect: { to: '/elsewhere' },
        response_headers: { set: { 'cache-control': 'max-age=300' } },
      },
      { respond: { body: 'hi' }, response_headers: { add: { 'x-country': '[{country}]' } } },
    ],
  })
  const r = await get(`${proxy.url}/r`)
  assert.equal(r.status, 302)
  assert.equal(r.headers['cache-control'], 'max-age=300')
  assert.equal((await get(proxy.url)).headers['x-country'], '[]')
})
