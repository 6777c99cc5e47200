import assert from 'node:assert/strict'
import { createHash, type Hash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const GiB = 1024 ** 3
// Peak resident memory Portico may reach while 1 GiB streams through it.
const maxRssBytes = 150 * 1024 ** 2

/** 1 GiB made on the fly from a random block, each chunk stamped with its index, hashed as it goes. */
class Generated extends Readable {
  readonly hash: Hash = createHash('sha256')
  readonly #block = randomBytes(64 * 1024)
  #left: number
  #index = 0

  constructor(bytes: number) {
    super({ highWaterMark: 64 * 1024 })
    this.#left = bytes
  }

  override _read(): void {
    if (this.#left === 0) {
      this.push(null)
      return
    }
    const chunk = Buffer.from(this.#block.subarray(0, Math.min(this.#block.length, this.#left)))
    chunk.writeUInt32BE(this.#index++ % 2 ** 32, 0)
    this.#left -= chunk.length
    this.hash.update(chunk)
    this.push(chunk)
  }
}

/** Counts and hashes everything read from `source`. */
async function consume(source: AsyncIterable<Buffer>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of source) {
    bytes += chunk.length
    hash.update(chunk)
  }
  return { bytes, sha256: hash.digest('hex') }
}

/** Peak resident set size of a process, from /proc (Linux). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m![1]) * 1024
}

test('a 1 GiB upload and a 1 GiB download stream through Portico with every byte intact, its peak RSS under 150 MB', async (t) => {
  let received: Promise<{ bytes: number; sha256: string }> | undefined
  let download: Generated | undefined
  const backend = await startBackend(t, 'big', (req, res) => {
    if (req.method === 'PUT') {
      received = consume(req)
      void received.then(() => res.end('stored'))
      return
    }
    download = new Generated(GiB)
    res.writeHead(200, { 'content-length': GiB })
    download.pipe(res)
  })
  const portico = await spawnPortico(
    t,
    [
      'run',
      '-c',
      writeConfig({
        listeners: [{ address: '127.0.0.1:0' }],
        pools: { big: { servers: [backend.address] } },
        routes: [{ pool: 'big', max_body_bytes: '2GiB' }],
        access_log: { output: 'off' },
      }),
    ],
    { listeners: 1 },
  )
  const url = portico.urls[0]!

  // Upload, chunked (length unknown to Portico).
  const upload = new Generated(GiB)
  const uploaded = await new Promise<string>((resolve, reject) => {
    const req = request(`${url}/up`, { method: 'PUT', agent: false }, (res) => {
      res.setEncoding('utf8')
      let body = ''
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve(body))
      res.on('error', reject)
    })
    req.on('error', reject)
    pipeline(upload, req).catch(reject)
  })
  assert.equal(uploaded, 'stored')
  assert.deepEqual(await received, { bytes: GiB, sha256: upload.hash.digest('hex') })

  // Download, fixed length.
  const got = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
    request(url, { agent: false }, (res) => consume(res).then(resolve, reject))
      .on('error', reject)
      .end()
  })
  assert.deepEqual(got, { bytes: GiB, sha256: download!.hash.digest('hex') })

  const rss = peakRss(portico.child.pid!)
  t.diagnostic(`portico peak RSS ${(rss / 1024 ** 2).toFixed(1)} MB`)
  assert.ok(rss < maxRssBytes, `peak RSS ${(rss / 1024 ** 2).toFixed(1)} MB is over ${maxRssBytes / 1024 ** 2} MB`)
})
