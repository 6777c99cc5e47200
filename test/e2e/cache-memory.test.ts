import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const MiB = 1024 ** 2
const objects = 10_000
// 10,000 objects of 8 KiB are 78 MiB: more than the 64 MiB tier holds, so the bound is reached.
const objectBytes = 8 * 1024
const memory = 64 * MiB
// V8's heap and malloc's arenas move by a few MiB with any load; the entries' own objects are counted in the bound.
const slack = 12 * MiB

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

test('10,000 distinct objects through a 64 MiB memory tier keep RSS within the bound plus Portico’s base', {
  timeout: 240_000,
}, async (t) => {
  const body = (n: number) => Buffer.alloc(objectBytes, n % 256)
  const backend = await startBackend(t, 'b', (req, res) => {
    const n = Number(req.url!.slice(3))
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream' })
    res.end(body(n))
  })
  const config = {
    workers: 1,
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', cache: { memory: '64MiB' } }],
  }
  const portico = await spawnPortico(t, ['run', '-c', writeConfig(config)], { listeners: 1 })
  const url = portico.urls[0]!
  const pid = portico.child.pid!
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  t.after(() => agent.destroy())

  // Portico's base: the same traffic on one object, so that everything but the stored bodies is warm.
  await getAll(
    url,
    Array.from({ length: 2000 }, () => '/o/0'),
    agent,
  )
  const base = rss(pid)
  const statuses = await getAll(
    url,
    Array.from({ length: objects }, (_, i) => `/o/${i}`),
    agent,
  )
  const atEnd = rss(pid)
  assert.ok(statuses.slice(1).every((s) => /stored/.test(s)))
  // Evicted bodies are freed by V8's next collection, and an idle Portico collects and gives
  // malloc's free pages back (cluster/idle-memory.ts): RSS is read once that has happened.
  const bound = base + memory + slack
  const deadline = Date.now() + 90_000
  let after = rss(pid)
  while (after > bound && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    after = rss(pid)
  }
  t.diagnostic(
    `RSS base ${(base / MiB).toFixed(1)} MiB; after ${objects} objects ${(atEnd / MiB).toFixed(1)} MiB at once, ${(after / MiB).toFixed(1)} MiB once idle`,
  )
  assert.ok(after <= bound, `RSS ${after} is over base ${base} + 64 MiB + ${slack}`)

  // The tier is full and bounded: the newest objects are hits, the oldest were dropped.
  const recent = await getAll(url, ['/o/9999', '/o/9900'], agent)
  assert.ok(
    recent.every((s) => /hit/.test(s)),
    `${recent}`,
  )
  const oldest = await getAll(url, ['/o/1'], agent)
  assert.match(oldest[0]!, /fwd=uri-miss/)
})
