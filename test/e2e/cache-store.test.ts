import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { test } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { answer, cachedSetup } from '../cache/counting-backend.ts'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { get, request } from '../helpers/http.ts'

const fresh = { 'cache-control': 'max-age=60' }

/** Resolves when the first body chunk of a GET arrives, then returns the rest as a promise. */
async function firstChunk(url: string): Promise<{ chunk: string; rest: Promise<string> }> {
  const req = httpRequest(url, { agent: false })
  req.end()
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
  const [chunk] = (await once(res, 'data')) as [Buffer]
  const rest = (async () => {
    let text = ''
    for await (const c of res) text += c
    return text
  })()
  return { chunk: chunk.toString(), rest }
}

test('a response being stored streams to the client: its first bytes arrive before the backend ends it', async (t) => {
  let finish: (() => void) | undefined
  const { proxy, count } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, fresh)
    res.write('first;')
    finish = () => res.end('last')
  })
  const { chunk, rest } = await firstChunk(`${proxy.url}/a`)
  assert.equal(chunk, 'first;')
  finish!()
  assert.equal(await rest, 'last')
  const hit = await get(`${proxy.url}/a`)
  assert.equal(hit.body, 'first;last')
  assert.equal(count(), 1)
})

test('a response larger than max_object_size passes through whole and unstored', async (t) => {
  const big = 'x'.repeat(3000)
  const { proxy, count } = await cachedSetup(
    t,
    (_req, res) => {
      res.writeHead(200, fresh)
      res.write(big.slice(0, 1000))
      res.end(big.slice(1000))
    },
    { max_object_size: 2000 },
  )
  assert.equal((await get(`${proxy.url}/a`)).body, big)
  assert.equal((await get(`${proxy.url}/a`)).body, big)
  assert.equal(count(), 2)
})

test('a response whose Content-Length is over max_object_size or under min_object_size is not stored', async (t) => {
  const { proxy, count } = await cachedSetup(
    t,
    (req, res) => {
      const body = req.url === '/big' ? 'x'.repeat(100) : 'x'
      res.writeHead(200, { ...fresh, 'content-length': body.length })
      res.end(body)
    },
    { max_object_size: 50, min_object_size: 2 },
  )
  for (const path of ['/big', '/big', '/small', '/small']) await get(`${proxy.url}${path}`)
  assert.equal(count(), 4)
})

test('a body cut short by the backend is not stored', async (t) => {
  const { proxy, count } = await cachedSetup(t, (_req, res) => {
    res.writeHead(200, { ...fresh, 'content-length': 10 })
    res.write('12345')
    res.socket!.destroy()
  })
  await get(`${proxy.url}/a`).catch(() => undefined)
  // Retries may send the first request more than once; the second must reach the backend again.
  const first = count()
  await get(`${proxy.url}/a`).catch(() => undefined)
  assert.ok(count() > first)
})

test('the access log says hit, miss or bypass for each exchange on a caching route', async (t) => {
  const file = accessLogFile(t)
  const { proxy } = await cachedSetup(
    t,
    answer(fresh),
    { bypass: { headers: ['x-preview'] } },
    {},
    {
      access_log: { output: file, format: 'json' },
    },
  )
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/a`)
  await get(`${proxy.url}/a`, { 'x-preview': '1' })
  const records = await readLogRecords(proxy, file)
  assert.deepEqual(
    records.map((r) => r.cache),
    ['miss', 'hit', 'bypass'],
  )
})

test('Vary keeps one variant per value of the headers it names, three of them side by side', async (t) => {
  const { proxy, count } = await cachedSetup(t, (req, res, n) => {
    res.writeHead(200, { ...fresh, vary: 'Accept-Language', 'x-n': String(n) })
    res.end(`lang ${req.headers['accept-language']}`)
  })
  for (const round of [1, 2]) {
    for (const lang of ['en', 'fr', 'de']) {
      const r = await get(`${proxy.url}/a`, { 'accept-language': lang })
      assert.equal(r.body, `lang ${lang}`)
      if (round === 2) assert.match(r.headers['cache-status'] as string, /hit/)
    }
  }
  assert.equal(count(), 3)
  const other = await get(`${proxy.url}/a`, { 'accept-language': 'nl' })
  assert.match(other.headers['cache-status'] as string, /fwd=vary-miss/)
})

test('Vary values are matched normalised: case and blanks around commas do not matter', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer({ ...fresh, vary: 'accept-encoding' }))
  await get(`${proxy.url}/a`, { 'accept-encoding': 'gzip, br' })
  await get(`${proxy.url}/a`, { 'accept-encoding': 'GZIP,br' })
  assert.equal(count(), 1)
})

test('a method left out of methods skips the cache: HEAD goes to the backend when only GET is cached', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), { methods: ['GET'] })
  await get(`${proxy.url}/a`)
  const head = await request(`${proxy.url}/a`, { method: 'HEAD' })
  assert.equal(count(), 2)
  assert.match(head.headers['cache-status'] as string, /fwd=bypass/)
  assert.match((await get(`${proxy.url}/a`)).headers['cache-status'] as string, /hit/)
})

test('a bypass cookie or header skips the cache, and Cache-Status says fwd=bypass', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), {
    bypass: { cookies: ['session'], headers: ['x-preview'] },
  })
  await get(`${proxy.url}/a`)
  const withCookie = await get(`${proxy.url}/a`, { cookie: 'theme=dark; session=abc' })
  const withHeader = await get(`${proxy.url}/a`, { 'x-preview': '1' })
  const other = await get(`${proxy.url}/a`, { cookie: 'theme=dark' })
  assert.equal(count(), 3)
  assert.match(withCookie.headers['cache-status'] as string, /fwd=bypass/)
  assert.match(withHeader.headers['cache-status'] as string, /fwd=bypass/)
  assert.match(other.headers['cache-status'] as string, /hit/)
})

test('the key can sort the query, drop named parameters, or ignore the query', async (t) => {
  const sorted = await cachedSetup(t, answer(fresh), { key: { query: 'sort', drop_params: ['utm_source'] } })
  await get(`${sorted.proxy.url}/a?b=2&a=1`)
  await get(`${sorted.proxy.url}/a?a=1&b=2&utm_source=mail`)
  assert.equal(sorted.count(), 1)
  await get(`${sorted.proxy.url}/a?a=2&b=2`)
  assert.equal(sorted.count(), 2)
  const kept = await cachedSetup(t, answer(fresh))
  await get(`${kept.proxy.url}/a?b=2&a=1`)
  await get(`${kept.proxy.url}/a?a=1&b=2`)
  assert.equal(kept.count(), 2)
  const ignored = await cachedSetup(t, answer(fresh), { key: { query: 'ignore' } })
  await get(`${ignored.proxy.url}/a?x=1`)
  await get(`${ignored.proxy.url}/a?y=2`)
  assert.equal(ignored.count(), 1)
})

test('headers and cookies named in the key keep separate objects', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh), { key: { headers: ['x-tenant'], cookies: ['lang'] } })
  await get(`${proxy.url}/a`, { 'x-tenant': 'a', cookie: 'lang=en' })
  await get(`${proxy.url}/a`, { 'x-tenant': 'b', cookie: 'lang=en' })
  await get(`${proxy.url}/a`, { 'x-tenant': 'a', cookie: 'lang=fr' })
  await get(`${proxy.url}/a`, { 'x-tenant': 'a', cookie: 'lang=en; other=1' })
  assert.equal(count(), 3)
})

test('the host is part of the key', async (t) => {
  const { proxy, count } = await cachedSetup(t, answer(fresh))
  await get(`${proxy.url}/a`, { host: 'one.example' })
  await get(`${proxy.url}/a`, { host: 'two.example' })
  await get(`${proxy.url}/a`, { host: 'ONE.example' })
  assert.equal(count(), 2)
})

test('Accept-Encoding does not split the cache: one stored identity body is compressed per client', async (t) => {
  const text = 'cached text '.repeat(200)
  const { proxy, count } = await cachedSetup(
    t,
    answer({ ...fresh, 'content-type': 'text/plain' }, text),
    {},
    { compression: { codings: ['gzip', 'br'] } },
  )
  const answers = []
  for (const coding of ['gzip', 'br', 'identity']) {
    const res = await new Promise<{ encoding: string | undefined; status: string; body: Buffer }>((resolve, reject) => {
      httpRequest(`${proxy.url}/a`, { agent: false, headers: { 'accept-encoding': coding } }, (r) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () =>
          resolve({
            encoding: r.headers['content-encoding'],
            status: String(r.headers['cache-status']),
            body: Buffer.concat(chunks),
          }),
        )
      })
        .on('error', reject)
        .end()
    })
    answers.push(res)
  }
  assert.equal(count(), 1)
  assert.deepEqual(
    answers.map((a) => a.encoding),
    ['gzip', 'br', undefined],
  )
  assert.equal(gunzipSync(answers[0]!.body).toString(), text)
  assert.equal(brotliDecompressSync(answers[1]!.body).toString(), text)
  assert.equal(answers[2]!.body.toString(), text)
  assert.match(answers[1]!.status, /hit/)
  assert.match(answers[2]!.status, /hit/)
})
