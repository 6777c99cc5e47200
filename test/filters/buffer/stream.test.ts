import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import type { Exchange } from '../../../src/exchange.ts'
import { BufferStream } from '../../../src/filters/buffer/stream.ts'
import { removeWhenDone } from '../../helpers/remove-dir.ts'

function setup(t: TestContext, memoryBytes: number, diskBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'portico-buffer-stream-'))
  removeWhenDone(t, dir)
  // BufferStream only counts its spilled bytes on the exchange.
  const x = { spilledBytes: 0 } as Exchange
  return { dir, x, stream: new BufferStream(x, { memoryBytes, diskBytes, dir }) }
}

/** Distinct bytes per chunk, so any reordering shows. */
function chunks(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 256))
}

async function readAll(stream: BufferStream): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of stream) out.push(c as Buffer)
  return Buffer.concat(out)
}

function openFilesIn(dir: string): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`)) n++
    } catch {
      // Closed meanwhile.
    }
  }
  return n
}

/** Waits for the asynchronous close of every file in `dir`; fails after a second. */
async function allClosed(dir: string): Promise<void> {
  for (let i = 0; i < 100 && openFilesIn(dir) > 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(openFilesIn(dir), 0)
}

test('within the memory limit every write is taken at once, with nobody reading', async (t) => {
  const { stream, x } = setup(t, 1024 * 1024, 0)
  const input = chunks(64, 16 * 1024)
  for (const c of input) assert.equal(stream.write(c), true)
  stream.end()
  await once(stream, 'finish')
  assert.equal(x.spilledBytes, 0)
  assert.deepEqual(await readAll(stream), Buffer.concat(input))
})

test('beyond memory the body goes to a temporary file and is still taken whole without a reader', async (t) => {
  const { stream, x, dir } = setup(t, 64 * 1024, 4 * 1024 * 1024)
  const input = chunks(32, 32 * 1024)
  for (const c of input) stream.write(c)
  stream.end()
  await once(stream, 'finish')
  assert.equal(x.spilledBytes, 1024 * 1024 - 64 * 1024)
  assert.equal(openFilesIn(dir), 1)
  assert.deepEqual(readdirSync(dir), [])
  assert.deepEqual(await readAll(stream), Buffer.concat(input))
  await allClosed(dir)
})

test('beyond memory and disk the writer waits for the reader, and order holds', async (t) => {
  const { stream } = setup(t, 16 * 1024, 32 * 1024)
  const input = chunks(32, 8 * 1024)
  let finished = false
  stream.on('finish', () => (finished = true))
  const written = (async () => {
    for (const c of input) if (!stream.write(c)) await once(stream, 'drain')
    stream.end()
  })()
  // Nobody reads: the writer stops short of the whole body.
  await new Promise((r) => setImmediate(r))
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(finished, false)
  const output = await readAll(stream)
  await written
  assert.deepEqual(output, Buffer.concat(input))
})

test('a reader that keeps up and falls behind gets every byte in order', async (t) => {
  const { stream } = setup(t, 20 * 1024, 100 * 1024)
  const input = chunks(200, 3000)
  const reading = readAll(stream)
  for (let i = 0; i < input.length; i++) {
    if (!stream.write(input[i]!)) await once(stream, 'drain')
    // Bursts and pauses, so the stream moves between memory, file and back.
    if (i % 17 === 0) await new Promise((r) => setImmediate(r))
  }
  stream.end()
  assert.deepEqual(await reading, Buffer.concat(input))
})

test('destroying the stream mid-body closes its temporary file', async (t) => {
  const { stream, dir } = setup(t, 1024, 1024 * 1024)
  for (const c of chunks(8, 64 * 1024)) stream.write(c)
  await once(stream, 'drain')
  assert.equal(openFilesIn(dir), 1)
  stream.destroy()
  await allClosed(dir)
})

test('the temporary file takes at most diskBytes in all, also when the reader catches up between bursts (#21)', async (t) => {
  const { stream, x } = setup(t, 64 * 1024, 1024 * 1024)
  const input = chunks(64, 64 * 1024)
  const out: Buffer[] = []
  let read = 0
  // Four bursts of 1 MiB written with nobody reading; then the reader catches up with all of it.
  for (let burst = 0; burst < 4; burst++) {
    for (const c of input.slice(burst * 16, burst * 16 + 16)) stream.write(c)
    while (read < (burst + 1) * 1024 * 1024) {
      const c = stream.read() as Buffer | null
      if (c === null) await once(stream, 'readable')
      else {
        out.push(c)
        read += c.length
      }
    }
  }
  assert.ok(x.spilledBytes <= 1024 * 1024, `${x.spilledBytes} bytes spilled`)
  assert.ok(x.spilledBytes > 0)
  assert.deepEqual(Buffer.concat(out), Buffer.concat(input))
})
