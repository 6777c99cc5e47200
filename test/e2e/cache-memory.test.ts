import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const MiB = 1024 ** 2
const objects = 10_000
// 10,000 objects of 8 KiB are 78 MiB: more than the 64 MiB tier holds, so the bound is reached.
const objectBytes = 8 * 1024
const memory = 64 * MiB
// The tier asks for a full collection each time entries worth an eighth of its bound came in or
// went (src/cache/memory-store.ts): up to that much may wait for it.
const uncollected = memory / 8

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m![1]) * 1024
}

/** GETs every path on `agent`'s connections, `parallel` at a time; resolves with each answer's Cache-Status. */
async function getAll(base: string, paths: string[], agent: Agent, parallel = 16): Promise<string[]> {
  const out: string[] = new Array(paths.length)
  let next = 0
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      request(`${base}${paths[i]}`, { agent }, (res) => {
        out[i] = String(res.headers['cache-status'])
        res.resume()
        res.on('end', resolve)
        res.on('error', reject)
      })
        .on('error', reject)
        .end()
    })
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) await one(i)
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  return out
}

/** Spawns a Portico with one worker whose route keeps a 64 MiB memory tier in front of `backend`. */
async function cachingPortico(t: TestContext, backend: string) {
  const config = {
    workers: 1,
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [backend] } },
    routes: [{ pool: 'web', cache: { memory: '64MiB' } }],
  }
  const portico = await spawnPortico(t, ['run', '-c', writeConfig(config)], { listeners: 1 })
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  t.after(() => agent.destroy())
  return { url: portico.urls[0]!, pid: portico.child.pid!, agent }
}

/**
 * Sends 2,000 requests for one object (so that everything but stored bodies is warm) and reads
 * RSS, then one request for each of 10,000 objects under `prefix` and reads RSS again at once.
 */
async function load(p: { url: string; pid: number; agent: Agent }, prefix: string) {
  await getAll(
    p.url,
    Array.from({ length: 2000 }, () => `${prefix}0`),
    p.agent,
  )
  const before = rss(p.pid)
  const statuses = await getAll(
    p.url,
    Array.from({ length: objects }, (_, i) => `${prefix}${i}`),
    p.agent,
  )
  return { before, after: rss(p.pid), statuses }
}

test('10,000 distinct objects through a 64 MiB memory tier keep RSS within the bound plus Portico’s base', {
  timeout: 240_000,
}, async (t) => {
  const body = (n: number) => Buffer.alloc(objectBytes, n % 256)
  // /o/… may be stored; /n/… may not, so a Portico that only asks for those keeps an empty cache.
  const backend = await startBackend(t, 'b', (req, res) => {
    const n = Number(req.url!.slice(3))
    const cacheControl = req.url!.startsWith('/o/') ? 'max-age=600' : 'no-store'
    res.writeHead(200, { 'cache-control': cacheControl, 'content-type': 'application/octet-stream' })
    res.end(body(n))
  })

  // Portico's base: what the same traffic costs a Portico whose cache stays empty (its heap, its
  // buffers, malloc's arenas), measured here rather than assumed.
  const empty = await load(await cachingPortico(t, backend.address), '/n/')
  assert.ok(empty.statuses.every((s) => /fwd=uri-miss/.test(s) && !/stored/.test(s)))
  const base = Math.max(0, empty.after - empty.before)

  const full = await cachingPortico(t, backend.address)
  const { before, after, statuses } = await load(full, '/o/')
  assert.ok(statuses.slice(1).every((s) => /stored/.test(s)))
  const bound = before + memory + uncollected + base
  t.diagnostic(
    `RSS of the empty cache's Portico ${(empty.before / MiB).toFixed(1)} → ${(empty.after / MiB).toFixed(1)} MiB; ` +
      `of the full one ${(before / MiB).toFixed(1)} → ${(after / MiB).toFixed(1)} MiB right after ${objects} objects ` +
      `(bound ${(bound / MiB).toFixed(1)} MiB)`,
  )
  assert.ok(
    after <= bound,
    `RSS grew by ${((after - before) / MiB).toFixed(1)} MiB: over 64 MiB + ${uncollected / MiB} MiB uncollected + the base's ${(base / MiB).toFixed(1)} MiB`,
  )

  // The tier is full and bounded: the newest objects are hits, the oldest were dropped.
  const recent = await getAll(full.url, ['/o/9999', '/o/9900'], full.agent)
  assert.ok(
    recent.every((s) => /hit/.test(s)),
    `${recent}`,
  )
  const oldest = await getAll(full.url, ['/o/1'], full.agent)
  assert.match(oldest[0]!, /fwd=uri-miss/)
})
