import type { CounterTotal } from '../../metrics/totals.ts'
import type { PoolView } from '../live-state.ts'

/** One line of the dashboard's recent errors. */
export interface RecentError {
  /** ISO time it was last seen. */
  readonly at: string
  /** ISO time it was first seen: counts of the same error within `mergeMs` of each other make one line. */
  readonly since: string
  /** `5xx`, `retry`, `server out` or `reload`. */
  readonly kind: string
  readonly text: string
  /** How many times it was seen (answers, retries); 1 for a server out or a reload. */
  readonly count: number
  /** What the line is about (`5xx route/pool/server`, `retry pool/code`), for merging. */
  readonly key: string
}

/** How many recent errors the dashboard keeps, newest first. */
const kept = 50

/** Counts of one error seen within this long of its last line add to that line. */
const mergeMs = 60_000

/**
 * The errors seen between one reading and the next: 5xx answers by route and server, retries by
 * pool and failure code (counter increases), servers gone out with their reason, and a refused
 * reload. Keeps the newest `kept`.
 */
export class RecentErrors {
  #list: RecentError[] = []
  #counts = new Map<string, number>()
  #out = new Set<string>()
  #reloadAt: string | undefined

  get list(): readonly RecentError[] {
    return this.#list
  }

  /** Takes one reading: the counter totals, the pools, and the last refused reload. */
  see(
    at: Date,
    totals: readonly CounterTotal[],
    pools: readonly PoolView[],
    reloadError: { readonly at: string; readonly errors: readonly string[] } | null,
  ): void {
    const found: RecentError[] = []
    const iso = at.toISOString()
    const first = this.#counts.size === 0
    // Increases of this reading by what they are about (methods and status codes summed).
    const increases = new Map<string, { kind: string; what: string; n: number }>()
    for (const c of totals) {
      const fivexx = c.name === 'portico_requests_total' && c.labels.status_class === '5xx'
      const retry = c.name === 'portico_retries_total'
      if (!fivexx && !retry) continue
      const counter = c.name + JSON.stringify(c.labels)
      const increase = c.value - (this.#counts.get(counter) ?? 0)
      this.#counts.set(counter, c.value)
      if (first || increase <= 0) continue
      const l = c.labels
      const where = l.server ? ` by ${l.pool} ${l.server}` : l.pool ? ` in pool ${l.pool}` : ''
      const [kind, what] = fivexx
        ? ['5xx', `5xx on route ${l.route || '(none)'}${where}`]
        : ['retry', `retried in pool ${l.pool} after ${l.reason}`]
      const key = `${kind} ${what}`
      const seen = increases.get(key)
      if (seen) seen.n += increase
      else increases.set(key, { kind, what, n: increase })
    }
    for (const [key, { kind, what, n }] of increases) {
      const i = this.#list.findIndex((e) => e.key === key && at.getTime() - Date.parse(e.at) <= mergeMs)
      const earlier = this.#list[i]
      // A new list, not the old one changed: snapshots already sent hold the old.
      if (earlier) this.#list = this.#list.filter((e) => e !== earlier)
      const count = n + (earlier?.count ?? 0)
      found.push({ at: iso, since: earlier?.since ?? iso, kind, text: `${count} × ${what}`, count, key })
    }
    const out = new Set<string>()
    for (const p of pools) {
      for (const s of p.servers) {
        // A drain is an operator's choice, not an error.
        if (!s.out || (s.draining && !s.ejected && s.health !== 'unhealthy')) continue
        const key = `${p.name}/${s.address}`
        out.add(key)
        if (this.#out.has(key)) continue
        const why = s.reason ? `${s.reason.source}: ${s.reason.detail}` : 'out'
        const since = s.reason?.since ?? iso
        found.push({ at: since, since, kind: 'server out', text: `${p.name} ${s.address} out (${why})`, count: 1, key })
      }
    }
    this.#out = out
    if (reloadError && reloadError.at !== this.#reloadAt) {
      this.#reloadAt = reloadError.at
      const text = `reload refused: ${reloadError.errors.join('; ')}`
      found.push({ at: reloadError.at, since: reloadError.at, kind: 'reload', text, count: 1, key: 'reload' })
    }
    if (found.length > 0) this.#list = [...found.reverse(), ...this.#list].slice(0, kept)
  }
}
