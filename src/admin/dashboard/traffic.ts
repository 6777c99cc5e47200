import type { CounterTotal } from '../../metrics/totals.ts'

/** The instance's traffic over one interval between two readings of the counters. */
export interface TrafficPoint {
  /** End of the interval, in milliseconds since the epoch. */
  readonly t: number
  /** Exchanges finished per second. */
  readonly rps: number
  /** Share of those answered 5xx, from 0 to 1 (0 without traffic). */
  readonly error_rate: number
  /** Latency percentiles of the exchanges finished in the interval, in milliseconds; null without traffic. */
  readonly p50_ms: number | null
  readonly p95_ms: number | null
  readonly p99_ms: number | null
  /** Exchanges finished since the instance started. */
  readonly requests: number
}

/** One reading of the counters the dashboard needs, summed over routes, pools and servers. */
export interface TrafficReading {
  readonly at: number
  readonly requests: number
  readonly errors: number
  /** Exchange durations: cumulative counts at each `le` bound, in seconds, ascending; `Infinity` last. */
  readonly buckets: ReadonlyMap<number, number>
}

/** Sums the counter totals into one reading taken at `at`. */
export function reading(totals: readonly CounterTotal[], at: number): TrafficReading {
  let requests = 0
  let errors = 0
  const buckets = new Map<number, number>()
  for (const c of totals) {
    if (c.name === 'portico_requests_total') {
      requests += c.value
      if (c.labels.status_class === '5xx') errors += c.value
    } else if (c.name === 'portico_request_duration_seconds_bucket') {
      const le = c.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(c.labels.le)
      buckets.set(le, (buckets.get(le) ?? 0) + c.value)
    }
  }
  return { at, requests, errors, buckets: new Map([...buckets].sort((a, b) => a[0] - b[0])) }
}

/** The traffic between two readings of the same instance. */
export function between(before: TrafficReading, after: TrafficReading): TrafficPoint {
  const seconds = Math.max(0.001, (after.at - before.at) / 1000)
  const requests = Math.max(0, after.requests - before.requests)
  const errors = Math.max(0, after.errors - before.errors)
  const counts: [number, number][] = [...after.buckets].map(([le, n]) => [
    le,
    Math.max(0, n - (before.buckets.get(le) ?? 0)),
  ])
  return {
    t: after.at,
    rps: round(requests / seconds),
    error_rate: requests > 0 ? round(errors / requests, 4) : 0,
    p50_ms: percentileMs(counts, 0.5),
    p95_ms: percentileMs(counts, 0.95),
    p99_ms: percentileMs(counts, 0.99),
    requests: after.requests,
  }
}

/**
 * The `q` quantile of a histogram given as cumulative counts by upper bound (seconds), in
 * milliseconds: linear within the bucket it falls in, as Prometheus' `histogram_quantile` does;
 * the highest finite bound when it falls in the `+Inf` bucket. Null when the histogram is empty.
 */
export function percentileMs(cumulative: readonly (readonly [number, number])[], q: number): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0
  if (total === 0) return null
  const rank = q * total
  let lower = 0
  let below = 0
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return round(lower * 1000)
      const inBucket = count - below
      const share = inBucket > 0 ? (rank - below) / inBucket : 1
      return round((lower + (le - lower) * share) * 1000)
    }
    lower = Number.isFinite(le) ? le : lower
    below = count
  }
  return round(lower * 1000)
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
