import { z } from 'zod'
import { duration } from '../values/units.ts'

const otlp = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .describe('Where spans are posted as OTLP/HTTP JSON, e.g. "http://127.0.0.1:4318/v1/traces".'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(512)
      .describe('Most spans in one post; a full batch is posted at once. Default 512.'),
    interval: duration('Longest time a span waits before its batch is posted. Default "2s".').prefault('2s'),
    max_queued: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe(
        'Most spans held while the collector is slow or away; more are dropped and counted in the log. Default 10000.',
      ),
    service_name: z.string().min(1).default('portico').describe('The `service.name` of the spans. Default "portico".'),
  })
  .describe('OpenTelemetry export: one SERVER span per sampled exchange, posted in batches (OTLP/HTTP JSON).')

/** The `tracing` section: W3C Trace Context is always kept or started; this says how traces start and where spans go. */
export const tracingSchema = z
  .strictObject({
    sample_ratio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'Share of the traces Portico starts (requests without a valid traceparent) flagged sampled, 0 to 1; a request that carries a traceparent keeps its flag. Default 0: none, unless `otlp` is set, then 1.',
      ),
    otlp: otlp.optional(),
  })
  .describe(
    "Tracing (docs/tracing.md). Every request gets a W3C traceparent towards the backend, continuing the client's trace with a span of its own or starting one; the trace id is in the access log.",
  )

export type TracingConfig = z.output<typeof tracingSchema>
