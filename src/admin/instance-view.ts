import type { Config } from '../config/schema.ts'
import { acmeCertificates, type CertificateView, certificates } from './certificates.ts'
import { aggregate, routeAction, type WorkerView } from './live-state.ts'

/**
 * The instance as `GET /state` shows it: the workers' pids, the listeners (with the URLs `urls`
 * holds, in config order), the routes, the pools summed over `workers`, and the certificates.
 */
export function instanceView(config: Config, urls: readonly string[], workers: readonly WorkerView[]) {
  return {
    workers: workers.map((w) => w.pid),
    listeners: config.listeners.map((l, i) => ({
      address: l.address,
      url: urls[i] ?? null,
      tls: l.tls !== undefined,
    })),
    routes: config.routes.map((r, i) => ({
      index: i,
      name: r.name ?? `route${i}`,
      match: r.match ?? {},
      action: routeAction(r),
    })),
    pools: aggregate(workers),
    certificates: [
      ...certificates(config),
      ...acmeCertificates(config, workers[0]?.acme ?? []),
    ] satisfies CertificateView[],
  }
}
