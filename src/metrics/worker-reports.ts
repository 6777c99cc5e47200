import { workerLeft } from './exposition.ts'
import type { Report } from './sample.ts'

/** The metrics messages between the primary and its workers: the primary asks, each worker answers. */
export type MetricsMessage =
  | { readonly type: 'metrics-ask'; readonly id: number }
  | { readonly type: 'metrics-report'; readonly id: number; readonly report: Report | undefined }

/** A worker as the primary asks it: the pid that keys its reports, and its index. */
export interface AskedWorker {
  readonly pid: number
  readonly index: number
}

/** One worker's answer. */
export interface WorkerReport {
  readonly pid: number
  /** The `worker` label of its process metrics: its index, or `primary`. */
  readonly worker: string
  readonly report: Report
}

interface Asking {
  readonly pending: Set<AskedWorker>
  readonly answers: WorkerReport[]
  readonly done: () => void
}

/**
 * The primary's side of a scrape: asks every worker for its report and resolves with those that
 * answered within `timeoutMs`. A worker that exits meanwhile, or is too busy to answer in time, is
 * left out of this scrape; its counts are in its next report.
 */
export class WorkerReports {
  readonly #asking = new Map<number, Asking>()
  #next = 0

  ask<W extends AskedWorker>(
    workers: readonly W[],
    send: (worker: W, message: MetricsMessage) => void,
    timeoutMs = 2000,
  ): Promise<WorkerReport[]> {
    const id = this.#next++
    const { promise, resolve } = Promise.withResolvers<WorkerReport[]>()
    const answers: WorkerReport[] = []
    const timer = setTimeout(() => done(), timeoutMs)
    const done = () => {
      clearTimeout(timer)
      this.#asking.delete(id)
      resolve(answers)
    }
    const asking: Asking = { pending: new Set(workers), answers, done }
    this.#asking.set(id, asking)
    if (workers.length === 0) done()
    for (const w of workers) send(w, { type: 'metrics-ask', id })
    return promise
  }

  /** A worker's answer to an ask. */
  receive(worker: AskedWorker, message: Extract<MetricsMessage, { type: 'metrics-report' }>): void {
    const asking = this.#asking.get(message.id)
    if (!asking?.pending.delete(worker)) return
    if (message.report) asking.answers.push({ pid: worker.pid, worker: String(worker.index), report: message.report })
    if (asking.pending.size === 0) asking.done()
  }

  /** A worker exited: no answer is awaited from it, and its gauges leave the metrics. */
  leave(worker: AskedWorker): void {
    workerLeft(worker.pid)
    for (const asking of this.#asking.values()) {
      if (asking.pending.delete(worker) && asking.pending.size === 0) asking.done()
    }
  }
}
