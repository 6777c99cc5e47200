import type { Config } from './config/schema.ts'
import { RateStores } from './filters/ratelimit/stores.ts'
import { loadSecret } from './instance/secret.ts'
import { SharedState } from './instance/shared-state.ts'
import type { SlotLeases } from './instance/slot-leases.ts'
import { alone, type WorkerPlace } from './instance/worker-share.ts'
import { type Listener, listenHttp } from './listen/http.ts'
import { openAccessLog } from './log/access.ts'
import { type EventLog, silentEvents } from './log/events.ts'
import { Meter } from './metrics/meter.ts'
import { ProcessMetrics } from './metrics/process-metrics.ts'
import { report } from './metrics/report.ts'
import type { Report } from './metrics/sample.ts'
import { buildPlan } from './plan/build.ts'
import type { Plan } from './plan/plan.ts'
import { warnInsecurePools } from './tls/warn-insecure-pools.ts'
import { OtlpExporter, withSpans } from './trace/otlp.ts'
import { ServerRegistry } from './upstream/server-registry.ts'

/** A running Portico: its listeners and the current Plan. */
export interface Portico {
  /** The bound listener URLs, in config order. */
  readonly urls: readonly string[]
  /** The Plan new exchanges use. */
  plan(): Plan
  /**
   * Builds a Plan from a new config and swaps it in; exchanges in flight finish on the old one.
   * Returns the top-level keys whose changes wait for a restart (`listeners`, `access_log`, `secret`).
   */
  reload(config: Config): string[]
  /** Makes every client connection open now end after its next response (Listener.rebalance). */
  rebalance(): void
  /** Stops accepting, finishes what is in flight within the grace period, closes everything. */
  close(graceMs?: number): Promise<void>
  /** This process's metrics now (docs/metrics.md); undefined when the config has no `metrics` section. */
  readonly metrics: (() => Promise<Report>) | undefined
}

// Bound sockets and the open log file are kept across reloads.
const restartOnly = ['listeners', 'access_log', 'secret', 'metrics'] as const

/**
 * Starts Portico on a validated config. Listeners bind before this resolves; a bind failure rejects.
 * `shared` is the state this process shares with the other workers; by default it shares with none.
 * `secret` is the instance's key (sticky cookies, TLS tickets), which the primary gives every worker;
 * by default the config's `secret`, else a random one.
 * `worker` is given to a worker of several: its place among them, for its share of the instance's
 * limits, and its leases of `max_conns` slots from the primary.
 */
export async function startPortico(
  config: Config,
  events: EventLog = silentEvents,
  shared: SharedState = new SharedState(),
  secret: Buffer = loadSecret(config.secret),
  worker: { readonly leases: SlotLeases; readonly place: WorkerPlace } | undefined = undefined,
): Promise<Portico> {
  const registry = new ServerRegistry()
  const otlp = config.tracing.otlp
  const log = openAccessLog(config.access_log, events)
  // Spans end where every exchange ends: with its access log line. Read at start only.
  const accessLog = otlp ? withSpans(log, new OtlpExporter(otlp, events)) : log
  const place = worker?.place ?? alone
  const leases = worker?.leases
  const rates = new RateStores()
  const meter = config.metrics ? new Meter() : undefined
  const processMetrics = config.metrics ? await ProcessMetrics.start() : undefined
  let current = buildPlan(config, { registry, accessLog, events, shared, secret, place, leases, rates, meter })
  warnInsecurePools(config, events)
  const listeners: Listener[] = []
  try {
    for (const l of config.listeners) listeners.push(await listenHttp(l, () => current, events, secret, place))
  } catch (err) {
    for (const pool of current.pools.values()) pool.stop()
    await Promise.all(listeners.map((l) => l.close(0)))
    await registry.close()
    rates.close()
    throw err
  }
  let closing: Promise<void> | undefined
  const counted = listeners.map((l) => ({ address: new URL(l.url).host, counts: l.counts }))
  return {
    metrics:
      meter &&
      processMetrics &&
      (() =>
        report({
          meter,
          plan: () => current,
          listeners: () => counted,
          rates,
          process: processMetrics,
          leader: () => shared.leader,
        })),
    urls: listeners.map((l) => l.url),
    plan: () => current,
    reload(next) {
      const previous = current
      current = buildPlan(next, { registry, accessLog, events, shared, secret, place, leases, rates, meter })
      warnInsecurePools(next, events)
      for (const [name, pool] of previous.pools) pool.stop(current.pools.get(name))
      for (const l of listeners) l.apply(current.client)
      return restartOnly.filter((key) => JSON.stringify(previous.config[key]) !== JSON.stringify(next[key]))
    },
    rebalance() {
      for (const l of listeners) l.rebalance()
    },
    close(graceMs = current.shutdownGraceMs) {
      closing ??= (async () => {
        for (const pool of current.pools.values()) pool.stop()
        await Promise.all(listeners.map((l) => l.close(graceMs)))
        await registry.close()
        rates.close()
        await accessLog.close()
      })()
      return closing
    },
  }
}
