import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RetryBudget } from '../../src/upstream/retry-budget.ts'

test('retry budget allows its floor of retries under way at once when few requests are in flight', () => {
  const budget = new RetryBudget(0.2, 3)
  assert.deepEqual([budget.begin(1), budget.begin(1), budget.begin(1), budget.begin(1)], [true, true, true, false])
  budget.end()
  assert.equal(budget.begin(1), true)
  assert.equal(budget.active, 3)
})

test('retry budget scales with requests in flight: a share of them may be retries under way (#21)', () => {
  const budget = new RetryBudget(0.2, 3)
  let started = 0
  while (budget.begin(150)) started++
  assert.equal(started, 30)
  for (let i = 0; i < 30; i++) budget.end()
  assert.equal(budget.active, 0)
})

test('retry budget with ratio 0 and floor 0 allows no retry', () => {
  const budget = new RetryBudget(0, 0)
  assert.equal(budget.begin(1000), false)
  assert.equal(budget.spend(), false)
})
