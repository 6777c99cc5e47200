import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { reduceMemoryWhenIdle } from '../../src/cluster/idle-memory.ts'

/**
 * Runs `reduceMemoryWhenIdle` over event loop `shares`, one per 100 ms interval, idle after 300 ms,
 * then stops it; returns the flags it set and its full collections, in order.
 */
function flagsOver(t: TestContext, shares: number[], nodeFlags = ''): string[] {
  t.mock.timers.enable({ apis: ['setInterval'] })
  const set: string[] = []
  const stop = reduceMemoryWhenIdle({
    intervalMs: 100,
    idleAfterMs: 300,
    utilization: () => shares.shift() ?? 0,
    setFlags: (flags) => set.push(flags),
    collect: () => set.push('(full collection)'),
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
    '--no-memory-saver-mode',
    '--memory-saver-mode',
    '(full collection)',
    // Stopping leaves V8 as it found it.
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
