import type { SharedState } from '../instance/shared-state.ts'
import type { Plan } from '../plan/plan.ts'
import { type CertificateStatus, statusKey } from '../tls/acme/status.ts'
import type { Server } from '../upstream/server.ts'
import type { PoolView, ServerView, WorkerView } from './live-state.ts'

/** The shared-state key of the servers drained through the admin API: a list of `pool/address`. */
export const drainedKey = 'admin/drained'

/** What the process that serves the admin API asks a serving process. */
export type AgentRequest = { readonly op: 'snapshot' }

/** The admin API's hands in a serving process (a worker, or Portico alone): reports state, applies drains. */
export interface Agent {
  answer(request: AgentRequest): WorkerView
  /** Applies the drained list again to the current Plan's pools; called after every reload. */
  reapply(): void
}

/**
 * Watches the drained list in `shared` (set by the admin API, replayed to every new worker) and
 * drains or enables each server of `plan()` to match it, now and on each change.
 */
export function startAgent(plan: () => Plan, shared: SharedState): Agent {
  let drained = new Set<string>()
  const reapply = () => {
    for (const pool of plan().pools.values()) {
      for (const s of pool.servers) {
        const want = drained.has(`${pool.name}/${s.address}`)
        if (want && !s.state.draining) pool.drain(s.address)
        else if (!want && s.state.draining) pool.undrain(s.address)
      }
    }
  }
  shared.watch(drainedKey, (_key, value) => {
    drained = new Set((value as readonly string[] | undefined) ?? [])
    reapply()
  })
  // ACME certificates' status, set by the process that obtains them.
  const acme = new Map<string, CertificateStatus>()
  shared.watch(statusKey, (key, value) => acme.set(key.slice(statusKey.length), value as CertificateStatus))
  return {
    answer: () => ({ ...snapshot(plan()), acme: [...acme.values()] }),
    reapply,
  }
}

/** This process's pools and servers now. */
export function snapshot(plan: Plan): WorkerView {
  const pools: PoolView[] = []
  for (const pool of plan.pools.values()) {
    pools.push({
      name: pool.name,
      balancer: plan.config.pools[pool.name]?.balancer ?? 'round_robin',
      in_flight: pool.inFlight,
      queued: pool.queued,
      servers: pool.servers.map(serverView),
    })
  }
  return { pid: process.pid, pools }
}

function serverView(s: Server): ServerView {
  const state = s.state
  const ejected = state.ejectedUntil !== 0
  const stats = state.dispatcher.stats
  return {
    address: s.address,
    weight: s.weight,
    backup: s.backup,
    max_conns: s.maxConns,
    health: state.health,
    out: ejected || state.draining || state.health === 'unhealthy',
    reason: state.reason
      ? { source: state.reason.source, detail: state.reason.detail, since: new Date(state.reason.since).toISOString() }
      : null,
    in_flight: state.inFlight,
    ejected,
    ejections: state.ejections,
    draining: state.draining,
    empty: state.draining && state.inFlight === 0,
    connections: { active: stats.running, waiting: stats.pending + stats.queued },
    latency_ewma_ms: Math.round(state.latencyEwmaMs * 10) / 10,
  }
}
