// A pool's health settings: `health_check` (active checks) and `outlier` (passive ejection).
// The pool schema (schema.ts) gives each its place and default.

import { z } from 'zod'
import { duration, size } from '../values/units.ts'

const statusRange = z
  .union([
    z.number().int().min(100).max(599),
    z.string().regex(/^[1-5]\d\d(-[1-5]\d\d)?$/, 'expected "200" or "200-399"'),
  ])
  .describe('A status ("204", 204) or an inclusive range ("200-399").')

/** A pool's `health_check`: active checks of every server. */
export const healthCheckSchema = z
  .strictObject({
    type: z
      .enum(['http', 'tcp'])
      .prefault('http')
      .describe('"http" sends a request; "tcp" only connects. Default "http".'),
    interval: duration('Time between two checks of a server. Default "5s".').prefault('5s'),
    timeout: duration('Time a check may take before it counts as failed. Default "2s".').prefault('2s'),
    rise: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe('Checks in a row that must pass before an unhealthy server takes traffic again. Default 2.'),
    fall: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Checks in a row that must fail before a healthy server is taken out. Default 3.'),
    method: z
      .string()
      .regex(/^[A-Z]+$/)
      .default('GET')
      .describe('HTTP check method. Default "GET".'),
    path: z.string().startsWith('/').default('/').describe('HTTP check path. Default "/".'),
    host: z.string().min(1).optional().describe('Host header of HTTP checks. Default: the server\'s "host:port".'),
    expect_status: z
      .array(statusRange)
      .min(1)
      .default(['200-399'])
      .describe('Statuses an HTTP check accepts. Default ["200-399"].'),
    expect_body: z
      .string()
      .optional()
      .check((ctx) => {
        try {
          if (ctx.value !== undefined) new RegExp(ctx.value)
        } catch (err) {
          ctx.issues.push({
            code: 'custom',
            input: ctx.value,
            message: `not a valid pattern: ${(err as Error).message}`,
          })
        }
      })
      .describe(
        'A regular expression the start of an HTTP check body (up to expect_body_bytes) must match. Default: any body.',
      ),
    expect_body_bytes: size('How much of an HTTP check body is read for expect_body. Default "64KiB".').prefault(
      '64KiB',
    ),
    unknown_takes_traffic: z
      .boolean()
      .default(false)
      .describe(
        'Whether a server takes traffic before its first check has answered. Default false: only once a check passed.',
      ),
  })
  .describe('Active health checks of every server in the pool. Default: none, every server counts as healthy.')

/** A pool's `outlier`: passive health, servers ejected after failures in a row. */
export const outlierSchema = z
  .strictObject({
    consecutive_failures: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe(
        'Failed attempts in a row that eject a server, counted by each worker on its own requests: with W workers, a server that fails every request is ejected by each worker after about W times this many failures at the instance. 0 turns outlier detection off. Default 5.',
      ),
    failures: z
      .array(z.enum(['connect', 'reset', 'timeout', '5xx']))
      .default(['connect', 'reset', 'timeout'])
      .describe(
        'What counts as a failed attempt: "connect" (refused or timed out), "reset", "timeout" (no response headers in time), "5xx" (a 5xx answer). Default ["connect", "reset", "timeout"].',
      ),
    base_ejection: duration(
      'How long a first ejection lasts; each ejection in a row lasts twice the one before. Default "10s".',
    ).prefault('10s'),
    max_ejection: duration('Longest ejection. Default "5m".').prefault('5m'),
    max_ejected_share: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('Largest share of the pool that may be ejected at once; one server always may. Default 0.5.'),
  })
  .describe(
    'Passive health: servers that fail requests in a row are taken out for a while; with health_check, a passing check ends the ejection at once.',
  )
