import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cachedSetup } from '../cache/counting-backend.ts'
import { get, request } from '../helpers/http.ts'

const lastModified = 'Mon, 01 Jan 2024 00:00:00 GMT'

test('a stale entry is revalidated with If-None-Match and If-Modified-Since, and a 304 updates its stored headers', async (t) => {
  const { proxy, count, seen } = await cachedSetup(t, (req, res, n) => {
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, { 'cache-control': 'max-age=60', etag: '"v1"', 'x-version': `updated ${n}` })
      res.end()
      return
    }
    // Stored stale (Age beyond max-age), so the next request revalidates.
    res.writeHead(200, {
      'cache-control': 'max-age=60',
      age: '100',
      etag: '"v1"',
      'last-modified': lastModified,
      'x-version': 'first',
    })
    res.end('body one')
  })
  await get(`${proxy.url}/a`)
  const revalidated = await get(`${proxy.url}/a`)
  assert.equal(count(), 2)
  assert.equal(seen[1]!.headers['if-none-match'], '"v1"')
  assert.equal(seen[1]!.headers['if-modified-since'], lastModified)
  assert.equal(revalidated.status, 200)
  assert.equal(revalidated.body, 'body one')
  assert.equal(revalidated.headers['x-version'], 'updated 2')
  assert.match(revalidated.headers['cache-status'] as string, /fwd=stale; fwd-status=304; stored/)
  // Fresh again after the 304: the next one is a hit with the updated headers.
  const hit = await get(`${proxy.url}/a`)
  assert.equal(count(), 2)
  assert.equal(hit.body, 'body one')
  assert.equal(hit.headers['x-version'], 'updated 2')
  assert.match(hit.headers['cache-status'] as string, /hit/)
})

test('a revalidation answered 200 replaces the stored response', async (t) => {
  const { proxy, count } = await cachedSetup(t, (_req, res, n) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', age: n === 1 ? '100' : '0', etag: `"v${n}"` })
    res.end(`body ${n}`)
  })
  await get(`${proxy.url}/a`)
  assert.equal((await get(`${proxy.url}/a`)).body, 'body 2')
  assert.equal((await get(`${proxy.url}/a`)).body, 'body 2')
  assert.equal(count(), 2)
})

test("a client's own conditional request is answered 304 from a fresh entry", async (t) => {
  const { proxy, count } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', etag: '"v1"', 'last-modified': lastModified })
    res.end('body')
  })
  await get(`${proxy.url}/a`)
  const byTag = await get(`${proxy.url}/a`, { 'if-none-match': 'W/"v0", "v1"' })
  assert.equal(byTag.status, 304)
  assert.equal(byTag.body, '')
  assert.equal(byTag.headers.etag, '"v1"')
  const byDate = await get(`${proxy.url}/a`, { 'if-modified-since': 'Tue, 02 Jan 2024 00:00:00 GMT' })
  assert.equal(byDate.status, 304)
  const changed = await get(`${proxy.url}/a`, { 'if-none-match': '"v0"' })
  assert.equal(changed.status, 200)
  assert.equal(changed.body, 'body')
  const older = await get(`${proxy.url}/a`, { 'if-modified-since': 'Sun, 31 Dec 2023 00:00:00 GMT' })
  assert.equal(older.status, 200)
  assert.equal(count(), 1)
})

test('a HEAD with a matching If-None-Match is answered 304 from a fresh entry', async (t) => {
  const { proxy } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', etag: '"v1"' })
    res.end('body')
  })
  await get(`${proxy.url}/a`)
  const r = await request(`${proxy.url}/a`, { method: 'HEAD', headers: { 'if-none-match': '"v1"' } })
  assert.equal(r.status, 304)
})

test('range requests are answered from a stored response: one range, several, unsatisfiable, and If-Range', async (t) => {
  const { proxy, count } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', etag: '"v1"', 'content-type': 'text/plain' })
    res.end('0123456789')
  })
  await get(`${proxy.url}/a`)
  const one = await get(`${proxy.url}/a`, { range: 'bytes=2-4' })
  assert.equal(one.status, 206)
  assert.equal(one.body, '234')
  assert.equal(one.headers['content-range'], 'bytes 2-4/10')
  const suffix = await get(`${proxy.url}/a`, { range: 'bytes=-3' })
  assert.equal(suffix.body, '789')
  const several = await get(`${proxy.url}/a`, { range: 'bytes=0-1, 8-' })
  assert.equal(several.status, 206)
  const boundary = /multipart\/byteranges; boundary=(\w+)/.exec(several.headers['content-type'] as string)![1]
  assert.equal(
    several.body,
    `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n` +
      `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89\r\n--${boundary}--\r\n`,
  )
  assert.equal(Number(several.headers['content-length']), Buffer.byteLength(several.body))
  const beyond = await get(`${proxy.url}/a`, { range: 'bytes=20-' })
  assert.equal(beyond.status, 416)
  assert.equal(beyond.headers['content-range'], 'bytes */10')
  const changed = await get(`${proxy.url}/a`, { range: 'bytes=2-4', 'if-range': '"v0"' })
  assert.equal(changed.status, 200)
  assert.equal(changed.body, '0123456789')
  const same = await get(`${proxy.url}/a`, { range: 'bytes=2-4', 'if-range': '"v1"' })
  assert.equal(same.status, 206)
  assert.equal(count(), 1)
})

test('a no-cache response with a validator is stored and revalidated on every request, never served without', async (t) => {
  let version = 'v1'
  const { proxy, count, seen } = await cachedSetup(t, (req, res) => {
    if (req.headers['if-none-match'] === `"${version}"`) {
      res.writeHead(304, { etag: `"${version}"`, 'cache-control': 'no-cache' }).end()
      return
    }
    res.writeHead(200, { etag: `"${version}"`, 'cache-control': 'no-cache', 'content-type': 'text/plain' })
    res.end(`body ${version}`)
  })
  assert.match((await get(`${proxy.url}/a`)).headers['cache-status'] as string, /stored/)
  for (const headers of [{}, { 'cache-control': 'max-stale=3600' }]) {
    const r = await get(`${proxy.url}/a`, headers)
    assert.equal(r.status, 200)
    assert.equal(r.body, 'body v1')
    assert.match(r.headers['cache-status'] as string, /fwd=stale; fwd-status=304/)
  }
  assert.equal(count(), 3)
  assert.equal(seen[2]!.headers['if-none-match'], '"v1"')
  version = 'v2'
  assert.equal((await get(`${proxy.url}/a`)).body, 'body v2')
  assert.equal(count(), 4)
})
