import { counterTotals, metricsGathered } from '../../metrics/exposition.ts'
import type { CounterTotal } from '../../metrics/totals.ts'
import type { Control } from '../control.ts'
import { RecentErrors } from './recent-errors.ts'
import { between, reading, type TrafficPoint, type TrafficReading } from './traffic.ts'

/** How often the dashboard's snapshot is made while someone watches. */
export const snapshotIntervalMs = 1000

/** How many traffic points the charts keep: five minutes at one a second. */
const historyPoints = 300

/** What the dashboard needs of the instance: its control, and its counters (the metrics'). */
export interface FeedSources {
  readonly control: Pick<Control, 'state' | 'config'>
  readonly counters: () => Promise<CounterTotal[]>
  /** Whether the counters are gathered at all (`metrics` in the config at start). */
  readonly metrics: () => boolean
  readonly now?: () => number
}

/** One snapshot of the instance for the dashboard, pushed to every watcher each second. */
export type Snapshot = Awaited<ReturnType<Feed['snapshot']>>

/**
 * The dashboard's data: while at least one page watches, reads the admin API's state and the
 * metrics' counters every second, turns the counters into a traffic point (kept five minutes)
 * and the recent errors, and pushes a snapshot to every watcher. Stops reading when the last
 * watcher leaves; the history it gathered stays.
 */
export class Feed {
  readonly #sources: FeedSources
  readonly #watchers = new Set<(s: Snapshot) => void>()
  readonly #history: TrafficPoint[] = []
  readonly #errors = new RecentErrors()
  #last: TrafficReading | undefined
  #latest: Snapshot | undefined
  #timer: NodeJS.Timeout | undefined
  #busy = false

  constructor(sources: FeedSources) {
    this.#sources = sources
  }

  /** The traffic points of the last minutes, oldest first. */
  get history(): readonly TrafficPoint[] {
    return this.#history
  }

  /**
   * Calls `watcher` with a snapshot now and then every second, until the returned function is
   * called. The first snapshot carries the history; later ones only their newest point.
   */
  watch(watcher: (s: Snapshot) => void): () => void {
    this.#watchers.add(watcher)
    // While others watch, the newest snapshot serves: a reading of its own would make a traffic
    // point over a fraction of a second.
    const first = this.#timer && this.#latest ? Promise.resolve(this.#latest) : this.snapshot()
    void first.then(
      (s) => this.#watchers.has(watcher) && watcher({ ...s, history: [...this.#history] }),
      () => {},
    )
    this.#timer ??= setInterval(() => void this.#tick(), snapshotIntervalMs).unref()
    return () => {
      this.#watchers.delete(watcher)
      if (this.#watchers.size > 0 || !this.#timer) return
      clearInterval(this.#timer)
      this.#timer = undefined
      // A reading after a pause would average the pause in: start again from the next one.
      this.#last = undefined
      this.#latest = undefined
    }
  }

  async #tick(): Promise<void> {
    // A slow reading (a busy worker) is not stacked under the next.
    if (this.#busy) return
    this.#busy = true
    try {
      const s = await this.snapshot()
      for (const w of this.#watchers) w(s)
    } catch {
      // A reading that failed (a worker restarting) is skipped; the next one comes in a second.
    } finally {
      this.#busy = false
    }
  }

  /**
   * Reads the instance now: state, config facts, the traffic point since the previous reading
   * (added to the history) and the recent errors.
   */
  async snapshot() {
    const now = this.#sources.now?.() ?? Date.now()
    const [state, totals] = await Promise.all([this.#sources.control.state(), this.#sources.counters()])
    const config = this.#sources.control.config()
    const r = reading(totals, now)
    let point: TrafficPoint | null = null
    if (this.#last && r.at > this.#last.at) {
      point = between(this.#last, r)
      this.#history.push(point)
      if (this.#history.length > historyPoints) this.#history.shift()
    }
    if (!this.#last || r.at > this.#last.at) this.#last = r
    this.#errors.see(new Date(now), totals, state.pools, config.last_reload_error)
    const snapshot = {
      at: new Date(now).toISOString(),
      version: config.version,
      portico_version: config.portico_version,
      loaded_at: config.loaded_at,
      metrics: this.#sources.metrics(),
      requests: r.requests,
      point,
      history: undefined as TrafficPoint[] | undefined,
      workers: state.workers,
      listeners: state.listeners,
      pools: state.pools,
      certificates: state.certificates,
      group: state.group ?? null,
      changes: config.changes,
      errors: this.#errors.list,
    }
    this.#latest = snapshot
    return snapshot
  }
}

/** The feed of a running instance: its control and the metrics' counters. */
export function instanceFeed(control: Pick<Control, 'state' | 'config'>): Feed {
  return new Feed({ control, counters: counterTotals, metrics: metricsGathered })
}
