import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RetryBudget } from '../../src/upstream/retry-budget.ts'

test('retry budget allows its burst at once, then one retry per 1/ratio requests', () => {
  const budget = new RetryBudget(0.2, 3)
  assert.deepEqual([budget.spend(), budget.spend(), budget.spend(), budget.spend()], [true, true, true, false])
  for (let i = 0; i < 4; i++) budget.earn()
  assert.equal(budget.spend(), false)
  budget.earn()
  assert.equal(budget.spend(), true)
})

test('retry budget never holds more than its burst', () => {
  const budget = new RetryBudget(1, 2)
  for (let i = 0; i < 100; i++) budget.earn()
  assert.deepEqual([budget.spend(), budget.spend(), budget.spend()], [true, true, false])
})

test('retry budget with ratio 0 and burst 0 allows no retry', () => {
  const budget = new RetryBudget(0, 0)
  budget.earn()
  assert.equal(budget.spend(), false)
})
