import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { type TestContext, test } from 'node:test'
import { mallocTrim, reduceMemoryWhenIdle } from '../../src/process/idle-memory.ts'
import { shebangEnv } from '../helpers/spawn.ts'

/**
 * Runs `reduceMemoryWhenIdle` over event loop `shares`, one per 100 ms interval, idle after 300 ms and
 * busy again after 300 ms of light load, then stops it; returns the flags it set, its full collections and its trims of malloc's heap, in order.
 */
function flagsOver(t: TestContext, shares: number[], nodeFlags = ''): string[] {
  t.mock.timers.enable({ apis: ['setInterval'] })
  const set: string[] = []
  const stop = reduceMemoryWhenIdle({
    intervalMs: 100,
    idleAfterMs: 300,
    lightLoadForMs: 300,
    utilization: () => shares.shift() ?? 0,
    setFlags: (flags) => set.push(flags),
    collect: () => set.push('(full collection)'),
    trim: () => set.push('(trim)'),
    nodeFlags,
  })
  const intervals = shares.length
  for (let i = 0; i < intervals; i++) t.mock.timers.tick(100)
  stop()
  t.mock.timers.reset()
  return set
}

test('memory saver mode comes on after a quiet spell and goes off at the first busy interval', (t) => {
  // Quiet three times: on. 0.3 is the saver's own collections or a light load: it stays on. 0.8 is a load: off.
  assert.deepEqual(flagsOver(t, [0.9, 0.05, 0.02, 0, 0.3, 0.2, 0.8, 0.05, 0.05, 0.05]), [
    '--memory-saver-mode',
    '(full collection)',
    '(trim)',
    '--no-memory-saver-mode',
    '--memory-saver-mode',
    '(full collection)',
    '(trim)',
    // Stopping leaves V8 as it found it.
    '--no-memory-saver-mode',
  ])
})

test('memory saver mode goes off when a light load lasts, and stays on through a short one', (t) => {
  // On after three quiet intervals; two light ones (the saver's own collections) keep it; three in a row are a load.
  assert.deepEqual(flagsOver(t, [0, 0, 0, 0.2, 0.3, 0.05, 0.2, 0.2, 0.2, 0.2]), [
    '--memory-saver-mode',
    '(full collection)',
    '(trim)',
    '--no-memory-saver-mode',
  ])
})

test('a quiet spell broken by a busy interval starts over', (t) => {
  assert.deepEqual(flagsOver(t, [0, 0, 0.2, 0, 0, 0.9, 0.5]), [])
})

test('an operator who set memory saver mode either way keeps it', (t) => {
  assert.deepEqual(flagsOver(t, [0, 0, 0, 0, 0.9, 0], '--memory-saver-mode'), [])
  assert.deepEqual(flagsOver(t, [0, 0, 0, 0, 0.9, 0], '--max-semi-space-size=1 --no-memory-saver-mode'), [])
})

test('malloc is trimmed again once memory saver mode has had 10 s for its own collections', (t) => {
  // Idle after 3 intervals of 100 ms, then 100 intervals (10 s) more: a second trim, and no third.
  const set = flagsOver(
    t,
    Array.from({ length: 3 + 100 + 50 }, () => 0),
  )
  assert.deepEqual(set, ['--memory-saver-mode', '(full collection)', '(trim)', '(trim)', '--no-memory-saver-mode'])
})

test("the trim gives back the free memory left between live allocations in malloc's heap", () => {
  // A node process that fills malloc's heap with 64 KiB buffers, each followed by a small one it keeps, then frees
  // the large ones: without a trim the heap keeps those pages, as after a load of large bodies.
  const script = `
    import { readFileSync } from 'node:fs'
    import { mallocTrim } from ${JSON.stringify(new URL('../../src/process/idle-memory.ts', import.meta.url).href)}
    const rss = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024
    let large = [], kept = []
    for (let i = 0; i < 2000; i++) { large.push(Buffer.allocUnsafeSlow(65536).fill(1)); kept.push(Buffer.allocUnsafeSlow(512).fill(1)) }
    large = null
    globalThis.gc(); globalThis.gc()
    const before = rss()
    mallocTrim()()
    // kept.length keeps the small buffers alive past the trim.
    console.log(JSON.stringify({ before, after: rss(), kept: kept.length }))
  `
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', script],
    // Portico's own malloc settings, from its shebang line.
    { env: { ...process.env, ...shebangEnv }, encoding: 'utf8' },
  )
  const { before, after } = JSON.parse(out) as { before: number; after: number }
  // 2000 × 64 KiB is 125 MiB freed; most of it stays in the heap until the trim.
  assert.ok(before > 100, `before the trim: ${before.toFixed(1)} MB`)
  assert.ok(before - after > 80, `the trim gave back ${(before - after).toFixed(1)} MB (from ${before.toFixed(1)} MB)`)
})

test('without the addon, the trim is no error: Portico runs on without it', () => {
  assert.doesNotThrow(() => mallocTrim('/nonexistent/malloc-trim.node')())
})
