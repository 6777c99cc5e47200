import { ProcessMetrics } from './process-metrics.ts'
import { type CounterTotal, Totals } from './totals.ts'
import type { WorkerReport } from './worker-reports.ts'

/** The content type of `metricsText()`: the Prometheus text format 0.0.4. */
export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8'

// The instance's metrics, in the process that answers scrapes: the primary, or the only process.
const totals = new Totals()
let collect: (() => Promise<readonly WorkerReport[]>) | undefined

/**
 * Makes `metricsText()` gather from `reports`: the serving processes' reports (every worker's, or
 * this process's own). With `own`, this process serves no traffic (the primary) and adds its own
 * process metrics under `worker="primary"`.
 */
export async function collectFrom(reports: () => Promise<readonly WorkerReport[]>, own: boolean): Promise<void> {
  const primary = own ? await ProcessMetrics.start() : undefined
  collect = async () => {
    const [got, process] = await Promise.all([reports(), primary?.json()])
    if (!primary || !process) return got
    return [...got, { pid: 0, worker: 'primary', report: { counters: [], gauges: [], process } }]
  }
}

/** Whether this process gathers the instance's metrics (the config had `metrics` at start). */
export function metricsGathered(): boolean {
  return collect !== undefined
}

/** Forgets a worker process that exited: its gauges go, its counts stay. */
export function workerLeft(pid: number): void {
  totals.leave(String(pid))
}

/** Counts a config reload, whichever way it came (a signal, the admin API). */
export function countReload(ok: boolean): void {
  totals.count('portico_reloads_total', { result: ok ? 'ok' : 'failed' })
}

/**
 * The whole instance's metrics in the Prometheus text format (`metricsContentType`): every
 * worker's counts summed, their gauges combined, and each process's own metrics labelled by
 * `worker`. Only the families' headers while metrics are off.
 */
export function metricsText(): Promise<string> {
  // One scrape at a time: reports must be added in the order they were made, or an older total
  // added after a newer one would read as a counter made anew and be counted twice.
  const text = scraping.then(render, render)
  scraping = text.catch(() => undefined)
  return text
}

let scraping: Promise<unknown> = Promise.resolve()

/**
 * The instance's counters now, gathered as a scrape gathers them (and in turn with scrapes): a
 * copy of each total. Empty while metrics are off.
 */
export function counterTotals(): Promise<CounterTotal[]> {
  const gather = async () => {
    for (const r of (await collect?.()) ?? []) totals.add(String(r.pid), r.worker, r.report)
    return [...totals.counters()].map((c) => ({ ...c }))
  }
  const result = scraping.then(gather, gather)
  scraping = result.catch(() => undefined)
  return result
}

async function render(): Promise<string> {
  for (const r of (await collect?.()) ?? []) totals.add(String(r.pid), r.worker, r.report)
  const { AggregatorRegistry } = await import('prom-client')
  return AggregatorRegistry.aggregate(totals.json() as never).metrics()
}
