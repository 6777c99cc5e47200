import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Queue } from '../../src/upstream/queue.ts'

test('queue hands items out first in, first out, with how long each waited', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const q = new Queue<string>(10, 1000, () => assert.fail('nothing expires'), Date.now)
  q.push('a')
  t.mock.timers.tick(100)
  q.push('b')
  t.mock.timers.tick(50)
  assert.equal(q.peek(), 'a')
  assert.equal(q.shift(), 150)
  assert.equal(q.peek(), 'b')
  assert.equal(q.shift(), 50)
  assert.equal(q.length, 0)
})

test('queue refuses items beyond its length', () => {
  const q = new Queue<number>(2, 1000, () => {})
  assert.equal(q.push(1), true)
  assert.equal(q.push(2), true)
  assert.equal(q.push(3), false)
  assert.equal(q.length, 2)
  q.stop()
})

test('queue expires each item when its own wait ends, oldest first', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const expired: string[] = []
  const q = new Queue<string>(10, 1000, (item) => expired.push(item), Date.now)
  q.push('a')
  t.mock.timers.tick(400)
  q.push('b')
  t.mock.timers.tick(599)
  assert.deepEqual(expired, [])
  t.mock.timers.tick(1)
  assert.deepEqual(expired, ['a'])
  t.mock.timers.tick(399)
  assert.deepEqual(expired, ['a'])
  t.mock.timers.tick(1)
  assert.deepEqual(expired, ['a', 'b'])
  assert.equal(q.length, 0)
})

test('queue forgets an item taken out before its wait ends', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const expired: string[] = []
  const q = new Queue<string>(10, 1000, (item) => expired.push(item), Date.now)
  q.push('a')
  q.push('b')
  q.push('c')
  assert.equal(q.remove('b'), true)
  assert.equal(q.remove('b'), false)
  t.mock.timers.tick(1000)
  assert.deepEqual(expired, ['a', 'c'])
})
