import type { RateStores } from '../filters/ratelimit/stores.ts'
import type { Plan } from '../plan/plan.ts'
import type { CertificateStatus } from '../tls/acme/status.ts'
import type { Meter } from './meter.ts'
import type { ProcessMetrics } from './process-metrics.ts'
import type { Report, Sample } from './sample.ts'

/** A listener as the report sees it: its address from the config, and its counts. */
export interface CountedListener {
  readonly address: string
  readonly counts: {
    readonly accepted: number
    readonly open: number
    readonly tlsHandshakes: number
    readonly tlsFailures: number
  }
}

/** What a serving process reads its report from. */
export interface ReportSources {
  readonly meter: Meter
  readonly plan: () => Plan
  readonly listeners: () => readonly CountedListener[]
  readonly rates: RateStores
  readonly process: ProcessMetrics
  /** Whether this process reports the servers' state changes: the one that applies them first (the leader). */
  readonly leader: () => boolean
  /** The certificates ACME obtained (the same in every process: the leader reports them). */
  readonly certificates?: () => readonly CertificateStatus[]
}

const healthStates = ['unknown', 'healthy', 'unhealthy'] as const

/**
 * This process's metrics now: the meter's counts, the live state of the current Plan's pools and
 * servers, the listeners' connections and TLS handshakes, the rate limits' decisions, and the
 * process metrics, and the expiry and renewal state of ACME certificates. Counters are totals since
 * the process started.
 */
export async function report(from: ReportSources): Promise<Report> {
  const counters: Sample[] = []
  const gauges: Sample[] = []
  from.meter.samples(counters)
  const leader = from.leader()
  for (const pool of from.plan().pools.values()) {
    gauges.push(['portico_pool_in_flight', { pool: pool.name }, pool.inFlight])
    gauges.push(['portico_pool_queued', { pool: pool.name }, pool.queued])
    for (const s of pool.servers) {
      const at = { pool: pool.name, server: s.address }
      const state = s.state
      gauges.push(['portico_server_in_flight', at, state.inFlight])
      for (const h of healthStates)
        gauges.push(['portico_server_health', { ...at, state: h }, state.health === h ? 1 : 0])
      gauges.push(['portico_server_ejected', at, state.ejectedUntil !== 0 ? 1 : 0])
      gauges.push(['portico_server_draining', at, state.draining ? 1 : 0])
      counters.push(['portico_server_ejections_total', at, state.ejectionsTotal])
      if (leader) counters.push(['portico_server_state_changes_total', at, state.transitions])
    }
  }
  for (const l of from.listeners()) {
    const listener = { listener: l.address }
    counters.push(['portico_connections_total', listener, l.counts.accepted])
    gauges.push(['portico_connections_open', listener, l.counts.open])
    if (l.counts.tlsHandshakes + l.counts.tlsFailures > 0) {
      counters.push(['portico_tls_handshakes_total', { ...listener, result: 'ok' }, l.counts.tlsHandshakes])
      counters.push(['portico_tls_handshakes_total', { ...listener, result: 'failed' }, l.counts.tlsFailures])
    }
  }
  for (const [limit, c] of from.rates.counts) {
    counters.push(['portico_rate_limit_decisions_total', { limit, decision: 'rejected' }, c.rejected])
    counters.push(['portico_rate_limit_decisions_total', { limit, decision: 'delayed' }, c.delayed])
    counters.push(['portico_rate_limit_decisions_total', { limit, decision: 'shadowed' }, c.shadowed])
    counters.push(['portico_rate_limit_decisions_total', { limit, decision: 'store_error' }, c.storeErrors])
  }
  for (const c of (leader && from.certificates?.()) || []) {
    if (c.notAfter)
      gauges.push([
        'portico_acme_certificate_expiry_timestamp_seconds',
        { name: c.name },
        Date.parse(c.notAfter) / 1000,
      ])
    gauges.push(['portico_acme_certificate_renewal_failing', { name: c.name }, c.lastError === undefined ? 0 : 1])
  }
  for (const link of from.rates.links.all()) {
    const at = { redis: link.config.address.replace(/\/\/[^@/]*@/, '//') }
    counters.push(['portico_redis_losses_total', at, link.losses])
    counters.push(['portico_redis_failed_commands_total', at, link.failures])
    gauges.push(['portico_redis_up', at, link.up ? 1 : 0])
  }
  return { counters, gauges, process: await from.process.json() }
}
