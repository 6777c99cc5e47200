import { z } from 'zod'
import { wafGlobalSchema } from '../filters/waf/schema.ts'
import { geoSchema } from '../geo/schema.ts'
import { secretSchema } from '../instance/schema.ts'
import { listenerSchema } from '../listen/schema.ts'
import { metricsSchema } from '../metrics/schema.ts'
import { checkRoutePools, noRouteSchema, routeSchema } from '../route/schema.ts'
import { redisSchema } from '../shared-state/redis/schema.ts'
import { tracingSchema } from '../trace/schema.ts'
import { discoverySchema } from '../upstream/discover-schema.ts'
import { poolSchema } from '../upstream/schema.ts'
import { cidr, poolName } from '../values/common.ts'
import { duration, size } from '../values/units.ts'
import { adminSchema } from './admin-schema.ts'

const clientTimeouts = z
  .strictObject({
    request_headers: duration(
      'Time a client has to send the whole request head; slower clients are closed (408). Default "30s".',
    ).prefault('30s'),
    request: duration(
      'Time a client has to send a whole request, body included (408); never less than request_headers. Also the longest a client that left mid-upload goes unnoticed while its backend reads nothing (Portico then stops reading the client). Default "5m".',
    ).prefault('5m'),
    keepalive_idle: duration(
      'How long an idle client connection is kept open between requests. Default "5s".',
    ).prefault('5s'),
    drain_idle: duration(
      'On shutdown, how long a keep-alive connection must have been quiet (no request under way or begun) before it is closed; one busier closes after its next response, which says `Connection: close`. A request a client writes as Portico closes an idle connection gets no answer, so waiting for a quiet moment spares busy clients that race. Default "1s".',
    ).prefault('1s'),
    websocket_idle: duration(
      'A WebSocket tunnel with no traffic either way for this long is closed. Default "10m".',
    ).prefault('10m'),
  })
  .describe('Timeouts towards clients.')

const limits = z
  .strictObject({
    max_header_bytes: size(
      'Largest request head (request line and headers); larger get 431. Default "16KiB".',
    ).prefault('16KiB'),
    max_uri_bytes: size('Longest request target; longer get 414. Default "8KiB".').prefault('8KiB'),
  })
  .describe('Limits on what a client may send.')

const accessLog = z
  .strictObject({
    output: z
      .string()
      .prefault('stdout')
      .describe('"stdout", "stderr", "off", or a file path to append to. Default "stdout".'),
    format: z
      .enum(['auto', 'json', 'pretty'])
      .prefault('auto')
      .describe('"json" lines, a readable "pretty" line, or "auto": pretty on a terminal, json otherwise.'),
  })
  .describe('The access log: one line per exchange.')

/** The whole configuration file. */
export const configSchema = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1).describe('Where Portico accepts client traffic.'),
    pools: z.record(z.string().regex(poolName), poolSchema).describe('Named pools of servers.'),
    routes: z.array(routeSchema).min(1).describe('Routes, tried in file order; the first that matches wins.'),
    no_route: noRouteSchema.prefault({}),
    geo: geoSchema.prefault({}),
    trusted_proxies: z
      .array(cidr)
      .default([])
      .describe(
        'Addresses (CIDR) of proxies in front of Portico whose X-Forwarded-*, Forwarded and X-Request-Id are kept. Default none: those headers are replaced.',
      ),
    timeouts: clientTimeouts.prefault({}),
    limits: limits.prefault({}),
    access_log: accessLog.prefault({}),
    shutdown_grace: duration(
      'On SIGTERM or SIGINT, how long requests in flight may take to finish before connections are closed. Default "30s".',
    ).prefault('30s'),
    secret: secretSchema.optional(),
    admin: adminSchema.optional(),
    discovery: discoverySchema.prefault({}),
    tracing: tracingSchema.prefault({}),
    redis: redisSchema.prefault({}),
    metrics: metricsSchema.optional(),
    waf: wafGlobalSchema.prefault({}),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1).max(1024)])
      .prefault('auto')
      .describe(
        'Worker processes for `portico run`, all accepting on the same listeners: a number, or "auto" for one per CPU core (one when a listener has port 0, as tests and tools use). Read at start only; a reload keeps the running workers. Default "auto".',
      ),
  })
  .superRefine((config, ctx) => checkRoutePools(config.routes, Object.keys(config.pools), ctx), {
    // Also when other keys are wrong, so that one run reports every problem: the check needs only
    // `pools` to be a map and `routes` a list, whatever their contents.
    when: ({ value }) => isMap((value as Partial<Config>).pools) && Array.isArray((value as Partial<Config>).routes),
  })

function isMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export type Config = z.output<typeof configSchema>
export type ConfigInput = z.input<typeof configSchema>
