/** One value of a metric: its name (with `_bucket`, `_sum` or `_count` for a histogram's parts), labels and value. */
export type Sample = readonly [name: string, labels: Readonly<Record<string, string>>, value: number]

/**
 * What one serving process reports: its counters as totals since it started (the collector turns
 * them into increases), its gauges as they are now, and its process metrics in prom-client's JSON.
 */
export interface Report {
  readonly counters: readonly Sample[]
  readonly gauges: readonly Sample[]
  readonly process: readonly unknown[]
}
