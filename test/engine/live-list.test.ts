import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LiveList } from '../../src/engine/live-list.ts'

test('a LiveList holds what was added and not removed, whatever the order of removal', () => {
  const list = new LiveList<string>()
  const a = list.add('a')
  const b = list.add('b')
  const c = list.add('c')
  list.remove(b)
  assert.deepEqual(list.values().sort(), ['a', 'c'])
  list.remove(c)
  list.remove(c)
  assert.deepEqual(list.values(), ['a'])
  list.remove(a)
  assert.deepEqual(list.values(), [])
  list.add('d')
  assert.deepEqual(list.values(), ['d'])
})

test('a removed LiveList entry points at nothing, so it keeps no other entry alive', () => {
  const list = new LiveList<object>()
  list.add({})
  const middle = list.add({})
  list.add({})
  list.remove(middle)
  assert.deepEqual(middle, { value: undefined, prev: undefined, next: undefined })
})

test('a LiveList counts its entries', () => {
  const list = new LiveList<number>()
  const one = list.add(1)
  list.add(2)
  assert.equal(list.size, 2)
  list.remove(one)
  list.remove(one)
  assert.equal(list.size, 1)
})
