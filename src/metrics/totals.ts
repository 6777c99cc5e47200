import { families } from './families.ts'
import type { Report, Sample } from './sample.ts'

/** prom-client's JSON form of one metric, as `AggregatorRegistry.aggregate` takes it. */
interface MetricJson {
  name: string
  help: string
  type: string
  aggregator: string
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[]
}

/** One counter's total over the instance: its sample name, labels and value. */
export interface CounterTotal {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Snapshot {
  readonly worker: string
  readonly gauges: readonly Sample[]
  readonly process: readonly unknown[]
}

/**
 * The instance's metrics, from the reports of its serving processes. A process reports totals
 * since it started; only their increase since its last report is added here, so what a worker
 * counted stays counted after it exits or is replaced, and counters never go back. Gauges and
 * process metrics are each process's latest, dropped when it leaves.
 */
export class Totals {
  /** Increases added up, by sample key. */
  readonly #counters = new Map<string, { name: string; labels: Readonly<Record<string, string>>; value: number }>()
  /** Each process's last totals, by sample key. */
  readonly #last = new Map<string, Map<string, number>>()
  readonly #snapshots = new Map<string, Snapshot>()

  /** Takes `report` from the process `source` (its pid), which the `worker` label names. */
  add(source: string, worker: string, report: Report): void {
    const last = this.#last.get(source)
    const seen = new Map<string, number>()
    for (const [name, labels, value] of report.counters) {
      const key = name + JSON.stringify(labels)
      const before = last?.get(key) ?? 0
      seen.set(key, value)
      // Lower than before: the thing counted was made anew (a server removed and added again).
      const increase = value >= before ? value - before : value
      const total = this.#counters.get(key)
      if (total) total.value += increase
      else this.#counters.set(key, { name, labels, value: increase })
    }
    this.#last.set(source, seen)
    this.#snapshots.set(source, { worker, gauges: report.gauges, process: report.process })
  }

  /** Adds to a counter of this process's own (reloads). */
  count(name: string, labels: Readonly<Record<string, string>>, by = 1): void {
    const key = name + JSON.stringify(labels)
    const total = this.#counters.get(key)
    if (total) total.value += by
    else this.#counters.set(key, { name, labels, value: by })
  }

  /** Every counter's total now (histograms' `_bucket`, `_sum` and `_count` parts included). */
  counters(): IterableIterator<CounterTotal> {
    return this.#counters.values()
  }

  /** Forgets a process that exited: its gauges and process metrics; what it counted stays. */
  leave(source: string): void {
    this.#last.delete(source)
    this.#snapshots.delete(source)
  }

  /** Everything, in prom-client's JSON form: one list per process, which `aggregate` sums by labels. */
  json(): MetricJson[][] {
    const byName = new Map<string, MetricJson>()
    const lists: MetricJson[][] = []
    const main: MetricJson[] = families.map((f) => {
      const metric = { name: f.name, help: f.help, type: f.type, aggregator: f.combine, values: [] }
      byName.set(f.name, metric)
      return metric
    })
    lists.push(main)
    for (const { name, labels, value } of this.#counters.values()) {
      const metric = byName.get(baseName(name))
      if (metric) metric.values.push(jsonValue(name, labels, value, metric.name))
    }
    for (const snapshot of this.#snapshots.values()) {
      const gauges = families
        .filter((f) => f.type === 'gauge')
        .map((f) => ({ name: f.name, help: f.help, type: f.type, aggregator: f.combine, values: [] }) as MetricJson)
      const gaugeByName = new Map(gauges.map((g) => [g.name, g]))
      for (const [name, labels, value] of snapshot.gauges) gaugeByName.get(name)?.values.push({ labels, value })
      lists.push(gauges)
      lists.push(
        // Each process's own values, told apart by `worker`: prom-client's own aggregators (an
        // average, or none for the start time) are for merging processes into one, which this does not.
        (snapshot.process as MetricJson[]).map((m) => ({
          ...m,
          aggregator: 'sum',
          values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker: snapshot.worker } })),
        })),
      )
    }
    return lists
  }
}

function baseName(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '')
}

function jsonValue(name: string, labels: Readonly<Record<string, string>>, value: number, base: string) {
  return name === base ? { labels: { ...labels }, value } : { labels: { ...labels }, value, metricName: name }
}
