import { z } from 'zod'
import { rateFields } from '../../values/schema-parts.ts'

/** `client`, `client/24`, `client/24/64`, `header:X-Api-Key`, `cookie:session`, `path`, `route`. */
const keyPart = z
  .string()
  .regex(
    /^(client(\/\d{1,2}(\/\d{1,3})?)?|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[^\s=;,]+|path|route)$/,
    'expected "client", "client/24", "client/24/64", "header:<name>", "cookie:<name>", "path" or "route"',
  )
  .refine((part) => {
    const m = /^client\/(\d+)(?:\/(\d+))?$/.exec(part)
    return !m || (Number(m[1]) <= 32 && Number(m[2] ?? 128) <= 128)
  }, 'a client prefix is at most /32 for IPv4 and /128 for IPv6')

/** One rate limit of a route. */
export const rateLimitSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .optional()
      .describe(
        'Name of the count, in the `RateLimit-Policy` header, the logs and the store. Limits of several routes with the same name share their counts (add `route` to the key to part them). Default: the route\'s name and the limit\'s index, e.g. "api#0".',
      ),
    key: z
      .array(keyPart)
      .min(1)
      .prefault(['client'])
      .describe(
        'What the requests are counted by, together: "client" (the client address), "client/24" (its IPv4 /24; IPv6 whole), "client/24/64" (IPv4 /24, IPv6 /64), "header:<name>", "cookie:<name>", "path" (without the query), "route". A missing header or cookie counts as empty: all requests without it share one count. Default ["client"].',
      ),
    ...rateFields(
      'Requests allowed per `per`, on average.',
      'Requests that may come at once, beyond the steady rate: over any time t at most rate × t / per + burst are let through. Default 1.',
    ),
    action: z
      .enum(['reject', 'delay', 'shadow'])
      .prefault('reject')
      .describe(
        'Beyond the limit: "reject" answers 429 with Retry-After, RateLimit-Policy and RateLimit; "delay" holds requests until their turn (as nginx limit_req), and rejects those beyond the burst; "shadow" lets every request through, only counting and logging those beyond. Default "reject".',
      ),
    no_delay: z
      .number()
      .int()
      .min(0)
      .prefault(0)
      .describe(
        'With "delay": how many requests of a burst go through at once before the others are held (nginx `delay=`). Default 0: every request beyond the steady rate waits.',
      ),
    store: z
      .enum(['local', 'machine', 'redis'])
      .prefault('machine')
      .describe(
        'Where the counts live: "local" in each worker process (each worker its own count), "machine" one count for all the workers of the instance (kept by the primary process), "redis" one count for every Portico instance on the same Redis (the top-level `redis` section). Default "machine".',
      ),
    headers: z
      .boolean()
      .prefault(true)
      .describe(
        'Whether answers this limit let through carry `RateLimit-Policy` and `RateLimit` too (draft-ietf-httpapi-ratelimit-headers), so that clients can slow down before a 429; its 429s always do. Shadow limits never send them. Default true.',
      ),
    on_store_error: z
      .enum(['open', 'closed'])
      .prefault('open')
      .describe(
        'When the store cannot answer (Redis down or too slow): "open" lets the request through, "closed" answers 429. Default "open".',
      ),
  })
  .describe('A limit on the rate of requests, with the GCRA (a leaky bucket with a burst).')

export type RateLimitConfig = z.infer<typeof rateLimitSchema>

/** The route's `rate_limits` field. */
export const rateLimitsSchema = z
  .array(rateLimitSchema)
  .optional()
  .describe('Rate limits of this route, each checked in turn; the first exceeded one answers. Default none.')

export { type RedisConfig, redisSchema } from '../../shared-state/redis/schema.ts'
