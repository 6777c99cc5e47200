import type { Config } from '../config/schema.ts'
import type { CertificateStatus } from '../tls/acme/status.ts'
import type { HealthReason } from '../upstream/server.ts'

/** Why a server is out, or last changed state, as the API shows it. */
export interface ReasonView {
  /** `active` (a health check), `passive` (outlier ejection) or `admin` (drained through the API). */
  readonly source: HealthReason['source']
  readonly detail: string
  /** ISO time of the change. */
  readonly since: string
}

/** One server of one pool, in one worker or summed over all. */
export interface ServerView {
  readonly address: string
  readonly weight: number
  readonly backup: boolean
  readonly max_conns: number
  /** What active checks say: `unknown` before the first answer, or without checks. */
  readonly health: 'unknown' | 'healthy' | 'unhealthy'
  /** Whether the server takes no new requests now: unhealthy, ejected or draining. */
  readonly out: boolean
  readonly reason: ReasonView | null
  readonly in_flight: number
  readonly ejected: boolean
  readonly ejections: number
  readonly draining: boolean
  /** Draining with nothing in flight (requests and WebSockets): safe to stop. */
  readonly empty: boolean
  /** Requests on a connection to the server now, and waiting for one. */
  readonly connections: { readonly active: number; readonly waiting: number }
  readonly latency_ewma_ms: number
}

/** One pool, in one worker or summed over all. */
export interface PoolView {
  readonly name: string
  readonly balancer: string
  readonly in_flight: number
  readonly queued: number
  readonly servers: readonly ServerView[]
}

/** What one worker reports: its pid and its pools. */
export interface WorkerView {
  readonly pid: number
  readonly pools: readonly PoolView[]
  /** The certificates obtained by ACME, as every worker sees them (the same in each). */
  readonly acme?: readonly CertificateStatus[]
}

/**
 * Sums the workers' views into one for the instance: counts add up; a server is out, ejected or
 * draining when it is in any worker, and keeps the latest reason (the earliest time of one cause); health is the leader's (the first).
 */
export function aggregate(workers: readonly WorkerView[]): PoolView[] {
  const pools = new Map<string, { view: PoolView; servers: Map<string, ServerView> }>()
  for (const w of workers) {
    for (const p of w.pools) {
      const seen = pools.get(p.name)
      if (!seen) {
        pools.set(p.name, { view: p, servers: new Map(p.servers.map((s) => [s.address, s])) })
        continue
      }
      seen.view = { ...seen.view, in_flight: seen.view.in_flight + p.in_flight, queued: seen.view.queued + p.queued }
      for (const s of p.servers) {
        const a = seen.servers.get(s.address)
        seen.servers.set(s.address, a ? sum(a, s) : s)
      }
    }
  }
  return [...pools.values()].map(({ view, servers }) => ({ ...view, servers: [...servers.values()] }))
}

function sum(a: ServerView, b: ServerView): ServerView {
  const inFlight = a.in_flight + b.in_flight
  const draining = a.draining || b.draining
  return {
    ...a,
    out: a.out || b.out,
    reason: later(a.reason, b.reason),
    in_flight: inFlight,
    ejected: a.ejected || b.ejected,
    ejections: a.ejections + b.ejections,
    draining,
    empty: draining && inFlight === 0,
    connections: {
      active: a.connections.active + b.connections.active,
      waiting: a.connections.waiting + b.connections.waiting,
    },
    latency_ewma_ms: Math.max(a.latency_ewma_ms, b.latency_ewma_ms),
  }
}

/** The latest reason; of two for the same cause, the first seen (a worker started later saw it later). */
function later(a: ReasonView | null, b: ReasonView | null): ReasonView | null {
  if (!a || !b) return a ?? b
  if (a.source === b.source && a.detail === b.detail) return a.since <= b.since ? a : b
  return a.since >= b.since ? a : b
}

/** What a route does, in a word or two: `pool web`, `split`, `redirect`, `static` or `respond`. */
export function routeAction(r: Config['routes'][number]): string {
  if (r.pool !== undefined) return `pool ${r.pool}`
  if (r.split !== undefined) return 'split'
  if (r.redirect !== undefined) return 'redirect'
  if (r.static !== undefined) return 'static'
  return 'respond'
}
