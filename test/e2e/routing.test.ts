import assert from 'node:assert/strict'
import { once } from 'node:events'
import { type ClientHttp2Session, connect } from 'node:http2'
import { type TestContext, test } from 'node:test'
import type { ConfigInput } from '../../src/config/schema.ts'
import { type Backend, startBackend } from '../helpers/backend.ts'
import { get, rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const answer = (body: string) => ({ respond: { body } })

const routes: ConfigInput['routes'] = [
  { name: 'first', match: { path: '/order' }, ...answer('first') },
  { name: 'second', match: { path: '/order' }, ...answer('second') },
  { match: { host: 'exact.test' }, ...answer('host exact') },
  { match: { host: '*.wild.test' }, ...answer('host wildcard') },
  { match: { host: { regex: '^(?<tenant>[a-z]+)\\.re\\.test$' } }, ...answer('tenant {tenant}') },
  { match: { path: { exact: '/exact' } }, ...answer('path exact') },
  { match: { path: { regex: '^/users/(?<id>\\d+)/(\\w+)$' } }, ...answer('user {id} {2}') },
  { match: { path: '/method', method: ['DELETE', 'PUT'] }, ...answer('method') },
  { match: { path: '/h', headers: { 'x-env': 'canary' } }, ...answer('header exact') },
  { match: { path: '/h', headers: { 'X-Ver': { regex: '^v2\\.' } } }, ...answer('header regex') },
  { match: { path: '/h', headers: { 'x-flag': true } }, ...answer('header present') },
  { match: { path: '/q', query: { debug: '1' } }, ...answer('query') },
  { match: { path: '/q', query: { tag: ['a b', 'c'] } }, ...answer('query list') },
  { match: { path: '/c', cookies: { beta: 'yes' } }, ...answer('cookie') },
  { match: { path: '/ua', user_agent: 'bot' }, ...answer('bot') },
  { match: { path: '/ua', user_agent: 'mobile' }, ...answer('mobile') },
  { match: { path: '/ua', user_agent: { regex: 'portico-test' } }, ...answer('ua regex') },
  { match: { path: '/addr', client: ['10.0.0.0/8', '2001:db8::/32'] }, ...answer('client 10/8') },
  { match: { path: '/addr', client: '127.0.0.0/8' }, ...answer('client loopback') },
]

test('each matcher takes the requests it describes, and routes are tried in file order', async (t) => {
  const web = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    pools: { web: { servers: [web.address] } },
    routes: [...routes, { pool: 'web' }],
  })
  const cases: [string, string, Record<string, string>, string][] = [
    ['GET', '/order', {}, 'first'],
    ['GET', '/', { host: 'exact.test' }, 'host exact'],
    ['GET', '/', { host: 'EXACT.test:8080' }, 'host exact'],
    ['GET', '/', { host: 'a.b.wild.test' }, 'host wildcard'],
    ['GET', '/', { host: 'wild.test' }, 'web'],
    ['GET', '/', { host: 'acme.re.test' }, 'tenant acme'],
    ['GET', '/exact?x=1', {}, 'path exact'],
    ['GET', '/exact/more', {}, 'web'],
    ['GET', '/users/42/posts', {}, 'user 42 posts'],
    ['GET', '/users/abc/posts', {}, 'web'],
    ['DELETE', '/method', {}, 'method'],
    ['GET', '/method', {}, 'web'],
    ['GET', '/h', { 'x-env': 'canary' }, 'header exact'],
    ['GET', '/h', { 'x-env': 'stable' }, 'web'],
    ['GET', '/h', { 'x-ver': 'v2.1' }, 'header regex'],
    ['GET', '/h', { 'x-flag': '' }, 'header present'],
    ['GET', '/q?a=2&debug=1', {}, 'query'],
    ['GET', '/q?debug=0', {}, 'web'],
    ['GET', '/q?tag=a+b', {}, 'query list'],
    ['GET', '/q?tag=a%20b', {}, 'query list'],
    ['GET', '/c', { cookie: 'a=1; beta=yes' }, 'cookie'],
    ['GET', '/c', { cookie: 'beta=no' }, 'web'],
    ['GET', '/ua', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1)' }, 'bot'],
    ['GET', '/ua', { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148' }, 'mobile'],
    ['GET', '/ua', { 'user-agent': 'Portico-Test/1.0' }, 'ua regex'],
    ['GET', '/ua', { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' }, 'web'],
    ['GET', '/addr', {}, 'client loopback'],
  ]
  for (const [method, path, headers, expected] of cases) {
    const res = await request(proxy.url + path, { method, headers })
    assert.equal(res.body, expected, `${method} ${path} ${JSON.stringify(headers)}`)
  }
})

test('path conditions see through dot segments, doubled slashes and encoded letters', async (t) => {
  const web = await startBackend(t, 'web')
  const proxy = await startPortico(t, {
    pools: { web: { servers: [web.address] } },
    routes: [{ match: { path: '/admin' }, respond: { status: 403, body: 'no' } }, { pool: 'web' }],
  })
  // Raw bytes: a URL parser in the client would normalise these before they leave.
  for (const path of ['/admin', '/x/../admin/', '//admin', '/%61dmin', '/./admin', '/%2e%2e/admin']) {
    const head = await rawHttp(proxy.url, `GET ${path} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`)
    assert.match(head, /^HTTP\/1\.1 403 /, path)
  }
  assert.equal((await get(`${proxy.url}/administrator`)).body, 'web')
})

/** The status of a GET for `path`, sent as raw bytes over HTTP/1.1 (no client-side URL parsing). */
async function h1Status(url: string, path: string): Promise<string> {
  const head = await rawHttp(url, `GET ${path} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`)
  return head.slice(9, 12)
}

/** The status of a GET for `path` on an HTTP/2 session, `:path` sent as given. */
async function h2Status(session: ClientHttp2Session, path: string): Promise<string> {
  const stream = session.request({ ':path': path })
  stream.resume()
  stream.end()
  const [headers] = await once(stream, 'response')
  return String(headers[':status'])
}

async function h2Session(t: TestContext, url: string): Promise<ClientHttp2Session> {
  const session = connect(url)
  session.on('error', () => {})
  t.after(() => session.destroy())
  await once(session, 'remoteSettings')
  return session
}

// Paths that many backends (WSGI, Go, Tomcat, PHP, IIS) read as /admin, or /admin/…
const adminInDisguise = [
  '/admin%2fsecret',
  '/x/..%2fadmin',
  '/x/..%2Fadmin/',
  '/x/..%5cadmin',
  '/x\\..\\admin',
  '/x%5c..%5cadmin',
  '/admin;x',
  '/admin;x/y',
  '/x/..;/admin',
  '/x/.;/../admin',
  '/ADMIN',
  '/Admin/x',
  '/%41dmin',
  '/admin#x',
]

/** A backend that answers `web` and records the target of every request it receives. */
async function recordingWeb(t: TestContext): Promise<{ seen: string[]; web: Backend }> {
  const seen: string[] = []
  const web = await startBackend(t, 'web', (req, res) => {
    seen.push(req.url ?? '')
    res.end('web')
  })
  return { seen, web }
}

test('a route denying /admin is not passed by encoded slashes, backslashes, parameters or case, over HTTP/1.1 and HTTP/2 (#21)', async (t) => {
  const { seen, web } = await recordingWeb(t)
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', http2: { enabled: true }, paths: { case_insensitive: true } },
      {
        address: '127.0.0.1:0',
        http2: { enabled: true },
        paths: { case_insensitive: true, escaped_slashes: 'decode' },
      },
    ],
    pools: { web: { servers: [web.address] } },
    routes: [{ match: { path: '/admin' }, respond: { status: 403, body: 'no' } }, { pool: 'web' }],
  })
  // Escaped slashes refused (the default) give 400; read as slashes, they meet the route: 403.
  const refused = /^(400|403)$/
  for (const url of proxy.urls) {
    const session = await h2Session(t, url)
    for (const path of adminInDisguise) {
      assert.match(await h1Status(url, path), refused, `HTTP/1.1 ${url} ${path}`)
      assert.match(await h2Status(session, path), refused, `HTTP/2 ${url} ${path}`)
    }
  }
  for (const path of ['/admin%2fsecret', '/x/..%5cadmin', '/x\\..\\admin']) {
    assert.equal(await h1Status(proxy.urls[0]!, path), '400', path)
    assert.equal(await h1Status(proxy.urls[1]!, path), '403', path)
  }
  assert.deepEqual(seen, [])
  // The control case: other paths do reach the backend.
  assert.equal(await h1Status(proxy.urls[0]!, '/administrator'), '200')
})

test('with workers: 2 every worker normalises paths by its listener rules (#21)', { timeout: 60_000 }, async (t) => {
  const { seen, web } = await recordingWeb(t)
  const config = writeConfig({
    workers: 2,
    listeners: [{ address: '127.0.0.1:0', paths: { escaped_slashes: 'decode', case_insensitive: true } }],
    pools: { web: { servers: [web.address] } },
    routes: [{ match: { path: '/admin' }, respond: { status: 403, body: 'no' } }, { pool: 'web' }],
    access_log: { output: 'off' },
  })
  const portico = await spawnPortico(t, ['run', '-c', config], { listeners: 1 })
  const url = portico.urls[0]!
  // One connection each: the kernel spreads them over both workers.
  for (let i = 0; i < 4; i++) {
    for (const path of adminInDisguise.filter((p) => !p.includes('#')))
      assert.equal(await h1Status(url, path), '403', path)
  }
  assert.deepEqual(seen, [])
})

test('the backend receives the normalised path that routes matched, with the query as sent (#21)', async (t) => {
  const { seen, web } = await recordingWeb(t)
  const proxy = await startPortico(t, {
    listeners: [
      { address: '127.0.0.1:0', http2: { enabled: true } },
      { address: '127.0.0.1:0', paths: { escaped_slashes: 'keep', parameters: 'keep', case_insensitive: true } },
    ],
    pools: { web: { servers: [web.address] } },
    routes: [{ match: { path: '/api' }, rewrite: { strip_prefix: '/api' }, pool: 'web' }, { pool: 'web' }],
  })
  const [normal, lenient] = proxy.urls as [string, string]
  const session = await h2Session(t, normal)
  const cases: [string, string, string][] = [
    [normal, '/a/./b/../c;v=1/%7euser//x?q=/../%2f;', '/a/c/~user/x?q=/../%2f;'],
    [normal, '/%61pi/../api/x%3f', '/x%3F'],
    [normal, '/API/x', '/API/x'],
    [lenient, '/a%2fb/..;/c\\d', '/a%2Fb/..;/c\\d'],
    [lenient, '/API/x', '/x'],
  ]
  for (const [url, path, received] of cases) {
    seen.length = 0
    assert.equal(await h1Status(url, path), '200', path)
    if (url === normal) assert.equal(await h2Status(session, path), '200', path)
    assert.deepEqual(new Set(seen), new Set([received]), path)
  }
})

test('a request no route takes gets 404, or the configured no_route answer', async (t) => {
  const plain = await startPortico(t, { pools: {}, routes: [{ match: { path: '/only' }, respond: {} }] })
  const res = await get(`${plain.url}/elsewhere`)
  assert.equal(res.status, 404)
  assert.equal(res.body, 'Not Found\n')
  assert.ok(res.headers['x-request-id'])

  const custom = await startPortico(t, {
    pools: {},
    routes: [{ match: { host: 'known.test' }, respond: {} }],
    no_route: { status: 421, body: 'unknown host {host}\n' },
  })
  const other = await get(custom.url, { host: 'other.test' })
  assert.equal(other.status, 421)
  assert.equal(other.body, 'unknown host other.test\n')
})

test('respond answers with its status, body and content type, and HEAD gets the head only', async (t) => {
  const proxy = await startPortico(t, {
    pools: {},
    routes: [{ respond: { status: 503, body: '{"down":true,"id":"{request_id}"}', content_type: 'application/json' } }],
  })
  const res = await get(`${proxy.url}/health`)
  assert.equal(res.status, 503)
  assert.equal(res.headers['content-type'], 'application/json')
  assert.deepEqual(JSON.parse(res.body), { down: true, id: res.headers['x-request-id'] })
  const head = await request(`${proxy.url}/health`, { method: 'HEAD' })
  assert.equal(head.status, 503)
  assert.equal(head.body, '')
  assert.equal(head.headers['content-length'], res.headers['content-length'])
})

/** Two pools of one backend each, `stable` and `canary`, whose backends answer with their names. */
async function stableAndCanary(t: TestContext): Promise<ConfigInput['pools']> {
  const [stable, canary] = await Promise.all([startBackend(t, 'stable'), startBackend(t, 'canary')])
  return { stable: { servers: [stable.address] }, canary: { servers: [canary.address] } }
}

test('a split spreads new clients over pools by weight, and its cookie pins each client', async (t) => {
  const proxy = await startPortico(t, {
    pools: await stableAndCanary(t),
    routes: [
      {
        match: { path: '/pinned' },
        split: {
          pools: [
            { pool: 'stable', weight: 1 },
            { pool: 'canary', weight: 1 },
          ],
          cookie: { name: 'lane', max_age: '1h' },
        },
      },
      {
        split: {
          pools: [
            { pool: 'stable', weight: 90 },
            { pool: 'canary', weight: 10 },
          ],
        },
      },
    ],
  })
  const counts: Record<string, number> = { stable: 0, canary: 0 }
  for (let i = 0; i < 100; i++) counts[(await get(proxy.url)).body]!++
  assert.deepEqual(counts, { stable: 90, canary: 10 })

  const first = await get(`${proxy.url}/pinned`)
  const cookie = first.headers['set-cookie']?.[0]
  assert.match(cookie ?? '', new RegExp(`^lane=${first.body}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$`))
  for (let i = 0; i < 4; i++) {
    const again = await get(`${proxy.url}/pinned`, { cookie: `lane=${first.body}` })
    assert.equal(again.body, first.body)
    assert.equal(again.headers['set-cookie'], undefined)
  }
  const other = first.body === 'stable' ? 'canary' : 'stable'
  assert.equal((await get(`${proxy.url}/pinned`, { cookie: `lane=${other}` })).body, other)
})

test('a pool with weight 0 in a split takes no new clients and gives up its pinned ones', async (t) => {
  const proxy = await startPortico(t, {
    pools: await stableAndCanary(t),
    routes: [
      {
        split: {
          pools: [
            { pool: 'stable', weight: 1 },
            { pool: 'canary', weight: 0 },
          ],
          cookie: { name: 'lane' },
        },
      },
    ],
  })
  const res = await get(proxy.url, { cookie: 'lane=canary' })
  assert.equal(res.body, 'stable')
  assert.match(res.headers['set-cookie']?.[0] ?? '', /^lane=stable;/)
})
