// Portico serving, as `portico run` starts it: in this process alone or as workers, with the
// admin listener and the metrics listener beside it.
import type { Fleet } from '../admin/control.ts'
import { type Admin, startAdmin } from '../admin/start.ts'
import { loadConfigApart } from '../config/load-apart.ts'
import type { Config } from '../config/schema.ts'
import { Discovery } from '../discovery/discovery.ts'
import { shared } from '../instance/shared-state.ts'
import type { EventLog } from '../log/events.ts'
import { collectFrom, metricsContentType, metricsText } from '../metrics/exposition.ts'
import { listenMetrics, type MetricsListener } from '../metrics/listener.ts'
import { type Portico, startPortico } from '../portico.ts'
import { aloneFleet, workerFleet } from './fleet.ts'
import { startWorkers, type Workers } from './primary.ts'
import { workerCount } from './worker-count.ts'

/** What `run` started: Portico (or its workers), the admin listener, and the metrics listener if any. */
export interface Serving {
  readonly portico: Running
  readonly admin: Admin
  readonly metrics: MetricsListener | undefined
  /** Follows the pools' `discover` sources, when any pool has them. */
  readonly discovery: Discovery | undefined
}

/** Starts Portico (alone or as workers), then its admin and metrics listeners; closes what started if one fails. */
export async function startServing(fileConfig: Config, file: string | undefined, events: EventLog): Promise<Serving> {
  const workers = workerCount(fileConfig)
  // Servers that discovery finds join the config the processes serve; the admin API keeps the file's.
  const discovery = Discovery.wanted(fileConfig) ? await Discovery.start(fileConfig, events) : undefined
  const config = discovery ? discovery.expand(fileConfig) : fileConfig
  let portico: Running
  let fleet: Fleet
  if (workers > 1) {
    const started = await startWorkers(config, workers, events)
    portico = started
    fleet = workerFleet(started)
  } else {
    const started = await startPortico(config, events, shared)
    portico = started
    fleet = aloneFleet(started, events)
  }
  let admin: Admin | undefined
  try {
    // The primary of several workers serves no traffic: it may hold the schema, and a reload
    // then skips starting a process (docs/PERFORMANCE.md). Portico alone keeps it apart.
    const load = workers > 1 ? loadInProcess : (f: string) => loadConfigApart({ file: f })
    const links = workers > 1 ? undefined : (portico as Portico).redis
    admin = await startAdmin(
      fileConfig,
      fleet,
      {
        file,
        events,
        load,
        expand: discovery && ((c) => discovery.expand(c)),
        discoveryDrainMs: config.discovery.drain_deadline,
      },
      links,
    )
    const control = admin.control
    discovery?.attach({ discovered: (...change) => control.discovered(...change), current: () => control.file })
    let metrics: MetricsListener | undefined
    if (config.metrics) {
      metrics = await serveMetrics(config.metrics.address, portico, workers > 1, admin).catch((err: Error) => {
        throw new Error(`the metrics listener: ${err.message}`)
      })
    }
    return { portico, admin, metrics, discovery }
  } catch (err) {
    discovery?.close()
    await Promise.all([portico.close(), admin?.close()])
    throw err
  }
}

/** Portico in this process, or its workers: what `run` starts and stops. */
export type Running = Pick<Portico, 'urls' | 'close' | 'metrics'> | Pick<Workers, 'urls' | 'close' | 'metrics'>

/**
 * Serves the instance's metrics on their own listener at `address` and as `GET /metrics` on the
 * admin listener. Each scrape gathers this process's report, or, with workers, every worker's and
 * the primary's own process metrics.
 */
async function serveMetrics(
  address: string,
  running: Running,
  workers: boolean,
  admin: Admin,
): Promise<MetricsListener> {
  if (workers) await collectFrom(() => (running as Pick<Workers, 'metrics'>).metrics(), true)
  else {
    const own = (running as Pick<Portico, 'metrics'>).metrics
    await collectFrom(async () => {
      const report = await own?.()
      return report ? [{ pid: process.pid, worker: '0', report }] : []
    }, false)
  }
  admin.routes.add({
    method: 'GET',
    path: '/metrics',
    handler: async () => ({ status: 200, body: await metricsText(), type: metricsContentType }),
  })
  return listenMetrics(address)
}

/** Reads and validates a config file in this process. */
async function loadInProcess(file: string): Promise<Config> {
  const { loadConfig } = await import('../config/load.ts')
  return loadConfig(file)
}
