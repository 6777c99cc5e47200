import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { removeWhenDone } from '../helpers/remove-dir.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

function cacheDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cache-'))
  removeWhenDone(t, dir)
  return dir
}

const entries = (dir: string) => readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n))

/**
 * Resolves once `dir` holds `n` entry files (a write is renamed into place when whole); rejects
 * after 30 s, so that a write that never comes fails its test instead of spinning on.
 */
async function written(dir: string, n: number): Promise<string[]> {
  const deadline = Date.now() + 30_000
  while (entries(dir).length < n) {
    if (Date.now() > deadline) throw new Error(`${dir} holds ${entries(dir).length} entries, not ${n}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return entries(dir)
}

async function setup(t: TestContext, dir: string, maxSize = '1MiB') {
  let fetched = 0
  const backend = await startBackend(t, 'b', (req, res) => {
    fetched++
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' }).end(`body of ${req.url}`)
  })
  const config = {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', cache: { disk: { path: dir, max_size: maxSize } } }],
  }
  return { config, fetched: () => fetched }
}

test('disk entries survive a restart: a new process answers from them without the backend', async (t) => {
  const dir = cacheDir(t)
  const { config, fetched } = await setup(t, dir)
  const first = await startPortico(t, config)
  await get(`${first.url}/a`)
  await written(dir, 1)
  await first.close(0)
  const second = await startPortico(t, config)
  const hit = await get(`${second.url}/a`)
  assert.equal(hit.body, 'body of /a')
  assert.match(hit.headers['cache-status'] as string, /hit/)
  assert.equal(fetched(), 1)
})

/**
 * Stores `/a` on disk through one Portico, lets `damage` change its file, then starts a second
 * Portico on the same directory; returns it, the file, the dir and the backend's fetch count.
 */
async function storedThenDamaged(t: TestContext, damage: (file: string) => void) {
  const dir = cacheDir(t)
  const { config, fetched } = await setup(t, dir)
  const first = await startPortico(t, config)
  await get(`${first.url}/a`)
  const [name] = await written(dir, 1)
  await first.close(0)
  const file = join(dir, name!)
  damage(file)
  return { second: await startPortico(t, config), file, dir, fetched }
}

test('a corrupted disk entry is removed and fetched again', async (t) => {
  let data = Buffer.alloc(0)
  const { second, file, dir, fetched } = await storedThenDamaged(t, (file) => {
    data = readFileSync(file)
    data[data.length - 1] ^= 1
    writeFileSync(file, data)
  })
  const r = await get(`${second.url}/a`)
  assert.equal(r.body, 'body of /a')
  assert.match(r.headers['cache-status'] as string, /fwd=uri-miss/)
  assert.equal(fetched(), 2)
  // The fetched response is written again, intact.
  await written(dir, 1)
  while (readFileSync(file).equals(data)) await new Promise((resolve) => setImmediate(resolve))
  assert.ok(readFileSync(file).subarray(-10).toString().endsWith('body of /a'))
})

test('a truncated disk entry is removed and fetched again', async (t) => {
  const { second, fetched } = await storedThenDamaged(t, (file) =>
    writeFileSync(file, readFileSync(file).subarray(0, -3)),
  )
  assert.equal((await get(`${second.url}/a`)).body, 'body of /a')
  assert.equal(fetched(), 2)
})

test('the disk tier stays within max_size: the least recently written entries go first', async (t) => {
  const dir = cacheDir(t)
  const { config } = await setup(t, dir, '1500')
  const proxy = await startPortico(t, config)
  for (let i = 0; i < 10; i++) {
    await get(`${proxy.url}/item${i}`)
    await written(dir, Math.min(i + 1, 1))
  }
  // Each file is a head of a few hundred bytes and a short body.
  const sizes = entries(dir).map((n) => readFileSync(join(dir, n)).length)
  assert.ok(sizes.reduce((a, b) => a + b, 0) <= 1500, `${sizes}`)
  assert.ok(sizes.length >= 1 && sizes.length < 10)
})

test('a purge removes the disk entry too, so a restart does not bring it back', async (t) => {
  const dir = cacheDir(t)
  const { config, fetched } = await setup(t, dir)
  const withPurge = {
    ...config,
    routes: [{ pool: 'web', cache: { disk: { path: dir }, purge: { allow: ['127.0.0.1/32'] } } }],
  }
  const first = await startPortico(t, withPurge)
  await get(`${first.url}/a`)
  await written(dir, 1)
  const purged = await request(`${first.url}/a`, { method: 'PURGE' })
  assert.equal(purged.body, 'Purged 1\n')
  assert.equal(entries(dir).length, 0)
  await first.close(0)
  const second = await startPortico(t, withPurge)
  await get(`${second.url}/a`)
  assert.equal(fetched(), 2)
})

test('with two workers the disk tier is shared: what one worker stored, the other answers', {
  timeout: 60_000,
}, async (t) => {
  const dir = cacheDir(t)
  const { config, fetched } = await setup(t, dir)
  const p = await spawnPortico(
    t,
    ['run', '-c', writeConfig({ ...config, workers: 2, listeners: [{ address: '127.0.0.1:0' }] })],
    {
      listeners: 1,
    },
  )
  await get(`${p.urls[0]}/a`)
  await written(dir, 1)
  // Each request on a new connection: the kernel spreads connections, so 40 reach both workers.
  for (let i = 0; i < 40; i++) assert.equal((await get(`${p.urls[0]}/a`)).body, 'body of /a')
  assert.equal(fetched(), 1)
})

/** A disk-cached route whose backend answers with its `Accept-Language` and `Vary: Accept-Language`. */
async function varyingByLanguage(t: TestContext) {
  const dir = cacheDir(t)
  let fetched = 0
  const backend = await startBackend(t, 'b', (req, res) => {
    fetched++
    res
      .writeHead(200, { 'cache-control': 'max-age=600', vary: 'Accept-Language', 'content-type': 'text/plain' })
      .end(`lang:${req.headers['accept-language']}`)
  })
  const config = {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', cache: { disk: { path: dir } } }],
  }
  return { dir, config, fetched: () => fetched }
}

test('three Vary variants are stored on disk and each matched to its own requests after a restart', async (t) => {
  const { dir, config, fetched } = await varyingByLanguage(t)
  const first = await startPortico(t, config)
  for (const lang of ['en', 'fr', 'de']) await get(`${first.url}/a`, { 'accept-language': lang })
  // The URL's file that lists the Vary headers, and one file per variant.
  await written(dir, 4)
  await first.close(0)
  const second = await startPortico(t, config)
  for (const lang of ['de', 'en', 'FR']) {
    const r = await get(`${second.url}/a`, { 'accept-language': lang })
    assert.equal(r.body, `lang:${lang.toLowerCase()}`)
    assert.match(r.headers['cache-status'] as string, /hit/)
  }
  assert.equal(fetched(), 3)
  const other = await get(`${second.url}/a`, { 'accept-language': 'es' })
  assert.equal(other.body, 'lang:es')
  assert.match(other.headers['cache-status'] as string, /fwd=/)
  assert.equal(fetched(), 4)
})

test('after a restart, a variant the disk tier does not hold is forwarded as a vary-miss, not a uri-miss', async (t) => {
  const { dir, config } = await varyingByLanguage(t)
  const first = await startPortico(t, config)
  await get(`${first.url}/a`, { 'accept-language': 'en' })
  await written(dir, 2)
  await first.close(0)
  const second = await startPortico(t, config)
  const other = await get(`${second.url}/a`, { 'accept-language': 'es' })
  assert.equal(other.body, 'lang:es')
  assert.match(other.headers['cache-status'] as string, /fwd=vary-miss/)
})

test('a disk hit is promoted to memory: it answers again once its file is gone', async (t) => {
  const dir = cacheDir(t)
  const { config, fetched } = await setup(t, dir)
  const first = await startPortico(t, config)
  await get(`${first.url}/a`)
  const [name] = await written(dir, 1)
  await first.close(0)
  const second = await startPortico(t, config)
  assert.match((await get(`${second.url}/a`)).headers['cache-status'] as string, /hit/)
  rmSync(join(dir, name!))
  const again = await get(`${second.url}/a`)
  assert.equal(again.body, 'body of /a')
  assert.match(again.headers['cache-status'] as string, /hit/)
  assert.equal(fetched(), 1)
})
