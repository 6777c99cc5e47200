import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { get, rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

/** A site directory with a secret sibling directory outside it, and links that point out. */
function makeSite(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'portico-static-'))
  const root = join(base, 'site')
  const outside = join(base, 'outside')
  mkdirSync(join(root, 'sub'), { recursive: true })
  mkdirSync(join(root, 'empty'))
  mkdirSync(outside)
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>')
  writeFileSync(join(root, 'style.css'), 'body{}')
  writeFileSync(join(root, 'data.bin'), Buffer.from('0123456789'))
  writeFileSync(join(root, 'empty.txt'), '')
  writeFileSync(join(root, 'sub', 'index.html'), 'sub index')
  writeFileSync(join(root, 'sub', 'page.txt'), 'page')
  writeFileSync(join(root, '.env'), 'SECRET=root-dotfile')
  writeFileSync(join(root, '%2e'), 'literal percent name')
  writeFileSync(join(outside, 'secret.txt'), 'TOP SECRET')
  symlinkSync(outside, join(root, 'link-out'))
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-file.txt'))
  symlinkSync(join(root, 'style.css'), join(root, 'link-in.css'))
  utimesSync(join(root, 'style.css'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'))
  return { root, outside }
}

async function serve(t: TestContext, extra: object = {}) {
  const { root } = makeSite()
  const proxy = await startPortico(t, { pools: {}, routes: [{ static: { root, ...extra } }] })
  return proxy.url
}

const raw = (url: string, path: string) => rawHttp(url, `GET ${path} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`)

test('static serves files with their MIME type, ETag, Last-Modified and length', async (t) => {
  const url = await serve(t)
  const css = await get(`${url}/style.css`)
  assert.equal(css.status, 200)
  assert.equal(css.body, 'body{}')
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8')
  assert.equal(css.headers['content-length'], '6')
  assert.equal(css.headers['last-modified'], 'Tue, 02 Jan 2024 03:04:05 GMT')
  assert.match(css.headers.etag ?? '', /^"6-[0-9a-f]+"$/)
  assert.equal(css.headers['accept-ranges'], 'bytes')
  assert.ok(css.headers['x-request-id'])
  assert.equal((await get(`${url}/data.bin`)).headers['content-type'], 'application/octet-stream')
  const empty = await get(`${url}/empty.txt`)
  assert.equal(empty.status, 200)
  assert.equal(empty.body, '')
  const head = await request(`${url}/style.css`, { method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(head.body, '')
  assert.equal(head.headers['content-length'], '6')
})

test('conditional GETs get 304 when the ETag matches or the file is not newer', async (t) => {
  const url = await serve(t)
  const { headers } = await get(`${url}/style.css`)
  const etag = headers.etag!
  assert.equal((await get(`${url}/style.css`, { 'if-none-match': etag })).status, 304)
  assert.equal((await get(`${url}/style.css`, { 'if-none-match': `"other", W/${etag}` })).status, 304)
  assert.equal((await get(`${url}/style.css`, { 'if-none-match': '"other"' })).status, 200)
  assert.equal((await get(`${url}/style.css`, { 'if-modified-since': headers['last-modified']! })).status, 304)
  assert.equal((await get(`${url}/style.css`, { 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' })).status, 200)
  // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
  const both = await get(`${url}/style.css`, {
    'if-none-match': '"other"',
    'if-modified-since': headers['last-modified']!,
  })
  assert.equal(both.status, 200)
})

test('range requests get 206 with the bytes asked for, or 416 past the end', async (t) => {
  const url = await serve(t)
  const part = await get(`${url}/data.bin`, { range: 'bytes=2-5' })
  assert.equal(part.status, 206)
  assert.equal(part.body, '2345')
  assert.equal(part.headers['content-range'], 'bytes 2-5/10')
  assert.equal((await get(`${url}/data.bin`, { range: 'bytes=7-' })).body, '789')
  assert.equal((await get(`${url}/data.bin`, { range: 'bytes=-3' })).body, '789')
  assert.equal((await get(`${url}/data.bin`, { range: 'bytes=8-100' })).body, '89')
  const beyond = await get(`${url}/data.bin`, { range: 'bytes=10-' })
  assert.equal(beyond.status, 416)
  assert.equal(beyond.headers['content-range'], 'bytes */10')
  assert.equal((await get(`${url}/data.bin`, { range: 'bytes=0-1,4-5' })).status, 200)
  const stale = await get(`${url}/data.bin`, { range: 'bytes=0-1', 'if-range': '"stale"' })
  assert.equal(stale.status, 200)
  assert.equal(stale.body, '0123456789')
  const { headers } = await get(`${url}/data.bin`)
  assert.equal((await get(`${url}/data.bin`, { range: 'bytes=0-1', 'if-range': headers.etag! })).status, 206)
})

test('directories answer with their index file, and a redirect when the slash is missing', async (t) => {
  const url = await serve(t)
  assert.equal((await get(`${url}/`)).body, '<h1>home</h1>')
  assert.equal((await get(`${url}/`)).headers['content-type'], 'text/html; charset=utf-8')
  assert.equal((await get(`${url}/sub/`)).body, 'sub index')
  const bare = await get(`${url}/sub?x=1`)
  assert.equal(bare.status, 301)
  assert.equal(bare.headers.location, '/sub/?x=1')
  assert.equal((await get(`${url}/empty/`)).status, 404)
  assert.equal((await get(`${url}/missing.txt`)).status, 404)
  const post = await request(`${url}/style.css`, { method: 'POST', body: 'x' })
  assert.equal(post.status, 405)
  assert.equal(post.headers.allow, 'GET, HEAD')
})

test('no request leaves the root: dot segments, encodings, backslashes, dotfiles and symbolic links', async (t) => {
  const url = await serve(t)
  const attempts = [
    '/../outside/secret.txt',
    '/sub/../../outside/secret.txt',
    '/%2e%2e/outside/secret.txt',
    '/%2E%2E%2Foutside%2Fsecret.txt',
    '/sub/%2e%2e/%2e%2e/outside/secret.txt',
    '/%252e%252e/outside/secret.txt',
    '/%252e%252e%252foutside%252fsecret.txt',
    '/..\\outside\\secret.txt',
    '/sub/..%5c..%5coutside%5csecret.txt',
    '/%5c..%5c..%5coutside%5csecret.txt',
    '/link-out/secret.txt',
    '/link-file.txt',
    '/link-in.css',
    '/.env',
    '/sub/%2e%2e/.env',
    '/style.css%00.txt',
    '/%c0%ae%c0%ae/outside/secret.txt',
  ]
  for (const path of attempts) {
    const out = await raw(url, path)
    assert.match(out, /^HTTP\/1\.1 (400|404) /, path)
    assert.ok(!out.includes('TOP SECRET') && !out.includes('SECRET='), path)
  }
  // Decoded once: "%252e" names the file "%2e", never a dot.
  assert.ok((await raw(url, '/%252e')).endsWith('literal percent name'))
})

test('follow_symlinks and dotfiles open what they name, when allowed', async (t) => {
  const url = await serve(t, { follow_symlinks: true, dotfiles: true })
  assert.equal((await get(`${url}/link-file.txt`)).body, 'TOP SECRET')
  assert.equal((await get(`${url}/link-in.css`)).body, 'body{}')
  assert.equal((await get(`${url}/.env`)).body, 'SECRET=root-dotfile')
  assert.match(await raw(url, '/../outside/secret.txt'), /^HTTP\/1\.1 404 /)
})

test('a static root mounted under a prefix, with response header rules', async (t) => {
  const { root } = makeSite()
  const proxy = await startPortico(t, {
    pools: {},
    routes: [
      {
        match: { path: '/assets' },
        rewrite: { strip_prefix: '/assets' },
        static: { root },
        response_headers: { set: { 'cache-control': 'public, max-age=60' }, remove: ['accept-ranges'] },
      },
    ],
  })
  const css = await get(`${proxy.url}/assets/style.css`)
  assert.equal(css.body, 'body{}')
  assert.equal(css.headers['cache-control'], 'public, max-age=60')
  assert.equal(css.headers['accept-ranges'], undefined)
  assert.equal((await get(`${proxy.url}/style.css`)).status, 404)
})

test('a directory under strip_prefix redirects to its path with the prefix and a slash (#22)', async (t) => {
  const { root } = makeSite()
  const proxy = await startPortico(t, {
    pools: {},
    routes: [{ match: { path: '/s' }, rewrite: { strip_prefix: '/s' }, static: { root } }],
  })
  const bare = await get(`${proxy.url}/s/sub?x=1`)
  assert.equal(bare.status, 301)
  assert.equal(bare.headers.location, '/s/sub/?x=1')
  assert.equal((await get(`${proxy.url}${bare.headers.location}`)).body, 'sub index')
})

test("a static 404 and 405 get the route's response header rules (#22)", async (t) => {
  const { root } = makeSite()
  const proxy = await startPortico(t, {
    pools: {},
    routes: [{ static: { root }, response_headers: { set: { 'x-site': 'docs' } } }],
  })
  const missing = await get(`${proxy.url}/missing.txt`)
  assert.equal(missing.status, 404)
  assert.equal(missing.headers['x-site'], 'docs')
  const post = await request(`${proxy.url}/style.css`, { method: 'POST', body: 'x' })
  assert.equal(post.status, 405)
  assert.equal(post.headers['x-site'], 'docs')
})

test('a static root that does not exist is a config error naming the key', async () => {
  const { parseConfig } = await import('../../src/config/load.ts')
  const yaml = 'listeners: [{address: "127.0.0.1:0"}]\npools: {}\nroutes:\n  - static:\n      root: /no/such/dir\n'
  assert.throws(
    () => parseConfig(yaml, 'site.yaml'),
    /site\.yaml:5:13 routes\[0\]\.static\.root: expected an existing directory, found "\/no\/such\/dir"/,
  )
})
