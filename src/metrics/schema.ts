import { z } from 'zod'
import { address } from '../values/common.ts'

/**
 * The `metrics` section: present, Portico counts what it does and serves it in the Prometheus text
 * format; absent, it counts nothing and opens no port.
 */
export const metricsSchema = z
  .strictObject({
    address: address
      .prefault('127.0.0.1:9100')
      .describe(
        'host:port the metrics listener binds; it answers GET /metrics with every worker summed into one scrape. Loopback by default: bound to another address, anyone who reaches it reads the metrics. Default "127.0.0.1:9100".',
      ),
  })
  .describe(
    'Prometheus metrics (docs/metrics.md). Off unless this section is present: `metrics: {}` serves them on 127.0.0.1:9100. Read at start only.',
  )

export type MetricsConfig = z.output<typeof metricsSchema>
