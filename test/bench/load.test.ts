import assert from 'node:assert/strict'
import { test } from 'node:test'
import { h2loadResult, wrkScript } from '../../bench/load.ts'

const summary = (done: number, succeeded: number, failed: number) => `finished in 2.00s, 1500.50 req/s, 1.61MB/s
requests: ${done} total, ${done} started, ${done} done, ${succeeded} succeeded, ${failed} failed, 0 errored, 0 timeout
status codes: ${succeeded} 2xx, 0 3xx, 0 4xx, ${failed} 5xx
`

test('h2load results take the rate from its summary and the percentiles from its per-request log', () => {
  // One line per request: start (µs since the epoch), status, µs until the response ended.
  const log = Array.from({ length: 100 }, (_, i) => `1795494473080537\t200\t${(i + 1) * 1000}`).join('\n')
  const r = h2loadResult(summary(100, 100, 0), `${log}\n`)
  assert.deepEqual(r, { requests: 100, rps: 1500.5, p50Ms: 51, p99Ms: 100, errors: 0 })
})

test('h2load results count answers of 5xx as errors', () => {
  const r = h2loadResult(summary(4, 0, 4), '1\t503\t900\n1\t503\t1100\n1\t503\t1000\n1\t503\t1200\n')
  assert.equal(r.errors, 4)
  assert.equal(r.p50Ms, 1.1)
})

test('h2load output without a summary is an error that shows the output', () => {
  assert.throws(
    () => h2loadResult('connect: Connection refused\n', ''),
    /h2load printed no summary:\nconnect: Connection refused/,
  )
})

test('wrk holds a rate with pauses drawn around the mean its connections need', () => {
  // 50 connections at 2000 req/s: each sends every 25 ms on average, pausing 0 to 50 ms at random.
  assert.equal(wrkScript({ path: '/1k', rate: 2000 }, 50), 'function delay()\n  return math.random(0, 50)\nend\n')
  assert.match(wrkScript({ path: '/1k', rate: 1000 }, 10) ?? '', /math\.random\(0, 20\)/)
})

test("wrk sends POST bodies of the shape's size, and needs no script for plain GETs", () => {
  assert.match(wrkScript({ path: '/post', method: 'POST', bodyBytes: 16384 }, 50) ?? '', /string\.rep\("x", 16384\)/)
  assert.equal(wrkScript({ path: '/1k' }, 50), undefined)
})
