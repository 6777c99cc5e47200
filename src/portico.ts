import type { Config } from './config/schema.ts'
import { RateStores } from './filters/ratelimit/stores.ts'
import { loadSecret } from './instance/secret.ts'
import { SharedState } from './instance/shared-state.ts'
import type { SlotLeases } from './instance/slot-leases.ts'
import { alone, type WorkerPlace } from './instance/worker-share.ts'
import type { GroupRate } from './listen/group-rate.ts'
import { type Listener, listenHttp } from './listen/http.ts'
import { type AccessLog, openAccessLog } from './log/access.ts'
import { type EventLog, silentEvents } from './log/events.ts'
import { Meter } from './metrics/meter.ts'
import { ProcessMetrics } from './metrics/process-metrics.ts'
import { report } from './metrics/report.ts'
import type { Report } from './metrics/sample.ts'
import { buildPlan } from './plan/build.ts'
import type { Plan } from './plan/plan.ts'
import { applyServerChange } from './shared-state/apply-change.ts'
import type { ChangeChannel } from './shared-state/changes.ts'
import { groupConnectionRate } from './shared-state/connection-rate.ts'
import { InstanceGroup } from './shared-state/group.ts'
import { GroupMembers, type Member } from './shared-state/members.ts'
import type { RedisLinks } from './shared-state/redis/link.ts'
import { Acme, acmeBlocks } from './tls/acme/manager.ts'
import type { CertificateStatus } from './tls/acme/status.ts'
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
  /** The status of every certificate obtained by ACME (name, issuer, expiry, last error); empty without `acme`. */
  certificates(): CertificateStatus[]
  /** Renews the ACME certificate of `name` now; resolves with its status once the try is over. */
  renewCertificate(name: string): Promise<CertificateStatus | undefined>
  /** Makes every client connection open now end after its next response (Listener.rebalance). */
  rebalance(): void
  /** Stops accepting, finishes what is in flight within the grace period, closes everything. */
  close(graceMs?: number): Promise<void>
  /**
   * Where admin changes go to the other instances of the group (`redis.share` has "changes"):
   * the admin API applies a change here, then publishes it. Undefined when nothing is shared.
   */
  readonly changes: ChangeChannel | undefined
  /** The processes of every instance in the group, with their versions and load; undefined when nothing is shared. */
  readonly members: (() => Promise<Member[]>) | undefined
  /** This process's links to Redis, for the admin side of Portico alone to share: a loss is logged once. */
  readonly redis: RedisLinks
  /** This process's metrics now (docs/metrics.md); undefined when the config has no `metrics` section. */
  readonly metrics: (() => Promise<Report>) | undefined
}

// Bound sockets and the open log file are kept across reloads.
const restartOnly = ['listeners', 'access_log', 'secret', 'metrics'] as const

/** Binds every listener of `config`; when one fails, closes those bound, runs `undo` and rethrows. */
async function openListeners(
  config: Config,
  plan: () => Plan,
  events: EventLog,
  secret: Buffer,
  place: WorkerPlace,
  acme: Acme | undefined,
  groupRate: GroupRate | undefined,
  undo: () => Promise<void>,
): Promise<Listener[]> {
  const listeners: Listener[] = []
  try {
    for (const l of config.listeners) listeners.push(await listenHttp(l, plan, events, secret, place, acme, groupRate))
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close(0)))
    await undo()
    throw err
  }
  return listeners
}

/** Undoes a start whose listeners failed to bind: stops ACME, the pools, the upstream connections, the rate stores. */
async function undoStart(
  plan: Plan,
  acme: Acme | undefined,
  registry: ServerRegistry,
  rates: RateStores,
): Promise<void> {
  acme?.close()
  for (const pool of plan.pools.values()) pool.stop()
  await registry.close()
  rates.close()
}

/** What this process's metrics report reads, besides the meter and the process's own figures. */
interface MetricsSources {
  readonly plan: () => Plan
  readonly listeners: readonly Listener[]
  readonly rates: RateStores
  readonly shared: SharedState
  readonly acme: Acme | undefined
}

/** Gathers this process's metrics report (docs/metrics.md) when called. */
function metricsOf(meter: Meter, processMetrics: ProcessMetrics, from: MetricsSources): () => Promise<Report> {
  const counted = from.listeners.map((l) => ({ address: new URL(l.url).host, counts: l.counts }))
  return () =>
    report({
      meter,
      plan: from.plan,
      listeners: () => counted,
      rates: from.rates,
      process: processMetrics,
      leader: () => from.shared.leader,
      certificates: () => from.acme?.status() ?? [],
    })
}

/** Renews the ACME certificate of `name` now; fails when no listener obtains certificates by ACME. */
async function renew(acme: Acme | undefined, name: string): Promise<CertificateStatus | undefined> {
  if (!acme) throw new Error('no listener obtains certificates by ACME')
  return acme.renew(name)
}

/**
 * Joins the group of instances that `redis.share` names: health shared, changes other instances
 * make applied to whatever Plan is current when they arrive, and this process in the member list.
 */
function joinGroup(
  config: Config,
  from: {
    shares: InstanceGroup
    shared: SharedState
    rates: RateStores
    events: EventLog
    plan: () => Plan
    /** Whether this process is one of an instance's workers. */
    worker: boolean
  },
): { changes: ChangeChannel | undefined; group: GroupMembers | undefined } {
  const { shares, shared, rates, events, plan, worker } = from
  shares.shareHealth(config.redis, shared)
  const changes = shares.changes(config.redis)
  changes?.onChange((change) => applyServerChange(plan().pools, change))
  const load = () => {
    let inFlight = 0
    let queued = 0
    for (const pool of plan().pools.values()) {
      inFlight += pool.inFlight
      queued += pool.queued
    }
    return { inFlight, queued }
  }
  const group =
    config.redis.share.length > 0 ? new GroupMembers(rates.links.get(config.redis, events), load, worker) : undefined
  return { changes, group }
}

/**
 * The access log, and the spans of `tracing.otlp` when set: spans end where every exchange ends,
 * with its access log line. Read at start only.
 */
function openTracedAccessLog(config: Config, events: EventLog): AccessLog {
  const log = openAccessLog(config.access_log, events)
  const otlp = config.tracing.otlp
  return otlp ? withSpans(log, new OtlpExporter(otlp, events)) : log
}

/** What a running Portico holds open until it closes, besides its Plan's pools. */
interface RunningParts {
  readonly acme: Acme | undefined
  readonly listeners: readonly Listener[]
  readonly registry: ServerRegistry
  readonly group: GroupMembers | undefined
  readonly rates: RateStores
  readonly accessLog: AccessLog
}

/**
 * Closes a running Portico: stops the pools and ACME, lets the listeners finish what is in flight
 * within `graceMs`, then closes the upstream connections, leaves the group, closes the rate stores
 * and the access log.
 */
async function closeAll(plan: Plan, graceMs: number, parts: RunningParts): Promise<void> {
  for (const pool of plan.pools.values()) pool.stop()
  parts.acme?.close()
  await Promise.all(parts.listeners.map((l) => l.close(graceMs)))
  await parts.registry.close()
  await parts.group?.leave()
  parts.rates.close()
  await parts.accessLog.close()
}

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
  const accessLog = openTracedAccessLog(config, events)
  const place = worker?.place ?? alone
  const leases = worker?.leases
  const rates = new RateStores()
  const shares = new InstanceGroup(rates.links, events)
  const meter = config.metrics ? new Meter() : undefined
  const processMetrics = config.metrics ? await ProcessMetrics.start() : undefined
  const deps = { registry, accessLog, events, shared, secret, place, leases, rates, meter, group: shares }
  let current = buildPlan(config, deps)
  const plan = () => current
  warnInsecurePools(config, events)
  const { changes, group } = joinGroup(config, { shares, shared, rates, events, plan, worker: worker !== undefined })
  const acme = acmeBlocks(config).length > 0 ? new Acme(() => current.config, events, shared, place) : undefined
  const groupRate = groupConnectionRate(() => current.config, rates, events)
  const undo = () => undoStart(current, acme, registry, rates)
  const listeners = await openListeners(config, plan, events, secret, place, acme, groupRate, undo)
  acme?.start()
  let closing: Promise<void> | undefined
  return {
    metrics: meter && processMetrics && metricsOf(meter, processMetrics, { plan, listeners, rates, shared, acme }),
    changes,
    members: group && (() => group.members()),
    redis: rates.links,
    urls: listeners.map((l) => l.url),
    plan,
    reload(next) {
      const previous = current
      current = buildPlan(next, deps)
      warnInsecurePools(next, events)
      for (const [name, pool] of previous.pools) pool.stop(current.pools.get(name))
      for (const l of listeners) l.apply(current.client)
      return restartOnly.filter((key) => JSON.stringify(previous.config[key]) !== JSON.stringify(next[key]))
    },
    certificates: () => acme?.status() ?? [],
    renewCertificate: (name) => renew(acme, name),
    rebalance() {
      for (const l of listeners) l.rebalance()
    },
    close(graceMs = current.shutdownGraceMs) {
      closing ??= closeAll(current, graceMs, { acme, listeners, registry, group, rates, accessLog })
      return closing
    },
  }
}
