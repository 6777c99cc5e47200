import type { Registry } from 'prom-client'

/**
 * prom-client's default metrics of this process (CPU, memory, heap, event loop lag, GC, handles),
 * on a registry of its own. Loaded only when metrics are on: the serving process otherwise never
 * loads prom-client.
 */
export class ProcessMetrics {
  readonly #registry: Registry

  private constructor(registry: Registry) {
    this.#registry = registry
  }

  /** Starts collecting this process's metrics. */
  static async start(): Promise<ProcessMetrics> {
    const { Registry, collectDefaultMetrics } = await import('prom-client')
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    return new ProcessMetrics(registry)
  }

  /** The metrics now, in prom-client's JSON form. */
  json(): Promise<unknown[]> {
    return this.#registry.getMetricsAsJSON()
  }
}
