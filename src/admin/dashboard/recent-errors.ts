import type { CounterTotal } from '../../metrics/totals.ts'
import type { PoolView } from '../live-state.ts'

/** One line of the dashboard's recent errors. */
export interface RecentError {
  /** ISO time it was seen. */
  readonly at: string
  /** `5xx`, `retry`, `server out` or `reload`. */
  readonly kind: string
  readonly text: string
}

/** How many recent errors the dashboard keeps, newest first. */
const kept = 50

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
    for (const c of totals) {
      const fivexx = c.name === 'portico_requests_total' && c.labels.status_class === '5xx'
      const retry = c.name === 'portico_retries_total'
      if (!fivexx && !retry) continue
      const key = c.name + JSON.stringify(c.labels)
      const increase = c.value - (this.#counts.get(key) ?? 0)
      this.#counts.set(key, c.value)
      if (first || increase <= 0) continue
      const l = c.labels
      if (fivexx) {
        const where = l.server ? ` by ${l.pool} ${l.server}` : l.pool ? ` in pool ${l.pool}` : ''
        found.push({ at: iso, kind: '5xx', text: `${increase} × 5xx on route ${l.route || '(none)'}${where}` })
      } else found.push({ at: iso, kind: 'retry', text: `${increase} × retried in pool ${l.pool} after ${l.reason}` })
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
        found.push({ at: s.reason?.since ?? iso, kind: 'server out', text: `${p.name} ${s.address} out (${why})` })
      }
    }
    this.#out = out
    if (reloadError && reloadError.at !== this.#reloadAt) {
      this.#reloadAt = reloadError.at
      found.push({ at: reloadError.at, kind: 'reload', text: `reload refused: ${reloadError.errors.join('; ')}` })
    }
    if (found.length > 0) this.#list = [...found.reverse(), ...this.#list].slice(0, kept)
  }
}
