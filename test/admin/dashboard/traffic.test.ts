import assert from 'node:assert/strict'
import { test } from 'node:test'
import { between, percentileMs, reading } from '../../../src/admin/dashboard/traffic.ts'
import type { CounterTotal } from '../../../src/metrics/totals.ts'

const requests = (status_class: string, value: number): CounterTotal => ({
  name: 'portico_requests_total',
  labels: { route: 'r', pool: 'web', server: 'a', method: 'GET', status_class },
  value,
})
const bucket = (route: string, le: string, value: number): CounterTotal => ({
  name: 'portico_request_duration_seconds_bucket',
  labels: { route, le },
  value,
})

test('a traffic point is the requests per second, the 5xx share and latency percentiles between two readings', () => {
  const before = reading(
    [
      requests('2xx', 100),
      requests('5xx', 0),
      bucket('r', '0.01', 100),
      bucket('r', '0.1', 100),
      bucket('r', '+Inf', 100),
    ],
    0,
  )
  const after = reading(
    [
      requests('2xx', 280),
      requests('5xx', 20),
      // Over two routes: 150 more under 10 ms, 50 more between 10 and 100 ms.
      bucket('r', '0.01', 200),
      bucket('r', '0.1', 250),
      bucket('r', '+Inf', 250),
      bucket('s', '0.01', 50),
      bucket('s', '0.1', 50),
      bucket('s', '+Inf', 50),
    ],
    2000,
  )
  const p = between(before, after)
  assert.equal(p.rps, 100)
  assert.equal(p.error_rate, 0.1)
  assert.equal(p.requests, 300)
  // 200 exchanges: the median falls in the first bucket (0 to 10 ms), p95 and p99 in 10 to 100 ms.
  assert.equal(p.p50_ms, 6.67)
  assert.equal(p.p95_ms, 82)
  assert.equal(p.p99_ms, 96.4)
})

test('no traffic between two readings gives no percentiles and no error rate', () => {
  const r = reading([requests('2xx', 5), bucket('r', '0.01', 5), bucket('r', '+Inf', 5)], 0)
  const p = between(r, { ...r, at: 1000 })
  assert.deepEqual([p.rps, p.error_rate, p.p50_ms, p.p99_ms], [0, 0, null, null])
})

test('a percentile that falls past the highest bound is that bound', () => {
  assert.equal(
    percentileMs(
      [
        [0.5, 1],
        [Number.POSITIVE_INFINITY, 10],
      ],
      0.99,
    ),
    500,
  )
})
