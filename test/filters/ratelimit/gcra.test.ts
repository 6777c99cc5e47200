import assert from 'node:assert/strict'
import test from 'node:test'
import { remaining, retryAfterMs } from '../../../src/filters/ratelimit/gcra.ts'
import { LocalStore } from '../../../src/filters/ratelimit/local-store.ts'

// 10 requests a second (one each 100 ms), a burst of 5.
const params = { intervalMs: 100, toleranceMs: 400 }

function clock() {
  let now = 1_000_000
  return { now: () => now, advance: (ms: number) => void (now += ms) }
}

test('the GCRA lets a burst through at once, then refuses until an interval passes', () => {
  const c = clock()
  const store = new LocalStore(c.now)
  const seen = Array.from({ length: 7 }, () => store.take('k', params).allowed)
  assert.deepEqual(seen, [true, true, true, true, true, false, false])
  c.advance(99)
  assert.equal(store.take('k', params).allowed, false)
  c.advance(1)
  assert.equal(store.take('k', params).allowed, true)
  assert.equal(store.take('k', params).allowed, false)
})

test('the GCRA accepts at most rate × time + burst over a long run of requests', () => {
  const c = clock()
  const store = new LocalStore(c.now)
  let accepted = 0
  // One request every 7 ms for 10 s: far more than 10 a second.
  for (let t = 0; t < 10_000; t += 7) {
    if (store.take('k', params).allowed) accepted++
    c.advance(7)
  }
  assert.ok(accepted <= 10 * 10 + 5, `accepted ${accepted}`)
  assert.ok(accepted >= 10 * 10, `accepted ${accepted}`)
})

test('the GCRA keeps a count per key', () => {
  const store = new LocalStore(clock().now)
  for (let i = 0; i < 5; i++) store.take('a', params)
  assert.equal(store.take('a', params).allowed, false)
  assert.equal(store.take('b', params).allowed, true)
})

test('a decision tells what remains of the burst and when a refused request would pass', () => {
  const c = clock()
  const store = new LocalStore(c.now)
  const first = store.take('k', params)
  assert.equal(remaining(first, params), 4)
  for (let i = 0; i < 4; i++) store.take('k', params)
  const refused = store.take('k', params)
  assert.equal(refused.allowed, false)
  assert.equal(remaining(refused, params), 0)
  assert.equal(retryAfterMs(refused, params), 100)
  c.advance(250)
  assert.equal(remaining(store.take('k', params), params), 1)
})

test('a key whose count is whole again holds no state that changes a decision', () => {
  const c = clock()
  const store = new LocalStore(c.now, 2)
  for (let i = 0; i < 5; i++) store.take('k', params)
  c.advance(60_000)
  const seen = Array.from({ length: 6 }, () => store.take('k', params).allowed)
  assert.deepEqual(seen, [true, true, true, true, true, false])
})
