import assert from 'node:assert/strict'
import { test } from 'node:test'
import { batchWrite } from '../../src/engine/batched-writes.ts'

test('batched writes run after the current turn, in the order they were queued', async () => {
  const order: string[] = []
  batchWrite({ flushBatched: () => order.push('first') })
  batchWrite({ flushBatched: () => order.push('second') })
  order.push('turn ends')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(order, ['turn ends', 'first', 'second'])
})

test('a write queued by a flush runs in the same pass, before later immediates', async () => {
  const order: string[] = []
  batchWrite({
    flushBatched: () => {
      order.push('response')
      batchWrite({ flushBatched: () => order.push('next pipelined response') })
    },
  })
  const later = new Promise((resolve) => setImmediate(resolve)).then(() => order.push('later immediate'))
  await later
  assert.deepEqual(order, ['response', 'next pipelined response', 'later immediate'])
})

test('a write queued after a pass is flushed by a pass of its own', async () => {
  const order: string[] = []
  batchWrite({ flushBatched: () => order.push('one') })
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => batchWrite({ flushBatched: () => resolve(order.push('two')) }))
  assert.deepEqual(order, ['one', 'two'])
})
