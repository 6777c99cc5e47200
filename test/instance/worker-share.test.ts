import assert from 'node:assert/strict'
import { test } from 'node:test'
import { workerShare } from '../../src/instance/worker-share.ts'

test('worker shares of a limit add up to it, the first workers taking the remainder (#21)', () => {
  for (const [total, count] of [
    [10, 4],
    [2, 2],
    [1, 3],
    [100, 7],
  ] as const) {
    const shares = Array.from({ length: count }, (_, i) => workerShare(total, i, count))
    assert.equal(
      shares.reduce((a, b) => a + b, 0),
      total,
    )
    assert.ok(Math.max(...shares) - Math.min(...shares) <= 1)
  }
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => workerShare(10, i, 4)),
    [3, 3, 2, 2],
  )
})

test('with atLeastOne a worker gets 1 of a limit smaller than the worker count, and 0 stays 0 (#21)', () => {
  assert.deepEqual(
    [0, 1, 2].map((i) => workerShare(1, i, 3, true)),
    [1, 1, 1],
  )
  assert.equal(workerShare(0, 1, 3, true), 0)
})
