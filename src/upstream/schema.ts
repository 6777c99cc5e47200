import { z } from 'zod'
import { backendTlsSchema } from '../tls/schema.ts'
import { address } from '../values/common.ts'
import { duration } from '../values/units.ts'
import { type BalancerName, balancerNames } from './balancers/index.ts'
import { discoverEntrySchema } from './discover-schema.ts'
import { healthCheckSchema, outlierSchema } from './health-schema.ts'

const serverSchema = z.union([
  address.describe('A server as "host:port", with weight 1, no connection limit, not a backup.'),
  z.strictObject({
    address: address.describe('The server\'s "host:port".'),
    weight: z.number().int().min(0).max(1000).default(1).describe('Relative share of requests (0 to 1000). Default 1.'),
    max_conns: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        "Most requests in flight to this server at once from the whole instance, all workers together; more wait in the pool's queue. Each worker starts with its share and borrows the slots other workers do not use, through the primary, so no worker waits while a slot is free. Default 0: no limit.",
      ),
    backup: z
      .boolean()
      .default(false)
      .describe(
        'Takes requests while no other (primary) server is healthy, and retries that every usable primary has already failed. A healthy backup keeps the pool out of panic mode. Default false.',
      ),
  }),
])

const backendTimeouts = z
  .strictObject({
    connect: duration('Time to open a connection to a server before giving up with 504. Default "5s".').prefault('5s'),
    response_headers: duration(
      'Time from sending the request to receiving the response headers before 504. Default "60s".',
    ).prefault('60s'),
    body_idle: duration(
      'Longest silence between two chunks of a response body before the exchange is aborted. Default "60s".',
    ).prefault('60s'),
  })
  .describe('Timeouts towards the servers of this pool.')

const keepalive = z
  .strictObject({
    idle: duration(
      'Longest time an idle connection to a server is kept for reuse. A shorter `Keep-Alive: timeout=` from the server wins. Default "4s".',
    ).prefault('4s'),
    max_connections: z
      .number()
      .int()
      .min(1)
      .default(128)
      .describe('Most connections open to one server at once; further requests wait for one. Default 128.'),
  })
  .describe('Reuse of connections to the servers.')

const retries = z
  .strictObject({
    attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe(
        'Most attempts per request, the first included, each on a different server when there is one. Default 3.',
      ),
    per_try_timeout: duration(
      'Time one attempt may wait for response headers before it fails and may be retried. Default: timeouts.response_headers.',
    ).optional(),
    budget: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe(
        "Retries under way at once, as a share of the pool's requests in flight (Envoy's budget_percent). Retries of requests that never reached a server are not counted, nor those of the requests a server held when it went down, after the first it dropped. Default 0.2.",
      ),
    budget_burst: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe(
        'Retries that may be under way at once however few requests are in flight: the floor of the budget. For the whole instance: each worker gets its share (at least 1). Default 10.',
      ),
  })
  .describe(
    'Retries of failed attempts on another server: always when the request never reached the server (free of the budget, and for a refused connection past `attempts` while a server is untried); after a reset or timeout only for idempotent methods or requests with Idempotency-Key, since a written request may have been acted on. Never once the response has started.',
  )

const limits = z
  .strictObject({
    max_in_flight: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe(
        'Most requests in flight to the whole pool, for the whole instance: each worker gets its share (at least 1). More wait in the queue. Default 10000.',
      ),
    max_queued: z
      .number()
      .int()
      .min(0)
      .default(100)
      .describe(
        'Most requests waiting for a free server, for the whole instance: each worker queues its share (worker i of W gets max_queued / W rounded down, plus one of the remainder; at least 1, so with fewer than W the instance may queue W). More are answered 503 at once. 0 turns the queue off. Default 100.',
      ),
    queue_timeout: duration('Longest wait in the queue before a 503. Default "5s".').prefault('5s'),
    retry_after: duration(
      'Retry-After sent with the pool\'s 503 answers (queue full, wait expired, no server), rounded up to seconds. Default "1s".',
    ).prefault('1s'),
  })
  .describe('Circuit limits and the queue of this pool.')

const sticky = z
  .strictObject({
    cookie: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a cookie name (RFC 6265 token)')
      .default('portico_server')
      .describe('Name of the cookie that pins a client to a server. Default "portico_server".'),
    secret: z
      .string()
      .check((ctx) => {
        // The key is never echoed: config errors are printed and logged.
        if (ctx.value.length < 16)
          ctx.issues.push({ code: 'custom', input: '', message: 'expected at least 16 characters' })
      })
      .optional()
      .describe(
        'Key that signs cookie values, at least 16 characters; give the same to every instance. Default: a key derived from the top-level `secret`, so every worker (and every instance given that secret) honours the cookie.',
      ),
    max_age: duration('Cookie lifetime. Default: a session cookie.').optional(),
    fallback: z
      .enum(balancerNames.filter((n) => n !== 'sticky') as [BalancerName, ...BalancerName[]])
      .prefault('round_robin')
      .describe('Balancer for clients without a valid cookie, or whose server is down. Default "round_robin".'),
  })
  .describe('Settings of the "sticky" balancer.')

/** One pool: a named set of servers and how requests are spread over them. */
export const poolSchema = z
  .strictObject({
    servers: z
      .array(serverSchema)
      .default([])
      .describe('The servers of this pool; may be left out when `discover` finds them.'),
    discover: z
      .array(discoverEntrySchema)
      .min(1)
      .optional()
      .describe(
        'More servers, found and followed while Portico runs: DNS names, SRV names, files (docs/discovery.md). They join and leave as the admin API adds and removes servers: one that leaves drains first.',
      ),
    balancer: z.enum(balancerNames).prefault('round_robin').describe('How a server is chosen. Default "round_robin".'),
    hash_key: z
      .string()
      .regex(/^(?:(?:header|cookie|query):.+|path)$/, 'expected "header:NAME", "cookie:NAME", "query:NAME" or "path"')
      .optional()
      .describe(
        'For the "hash" balancer: what in the request picks the server: "header:NAME", "cookie:NAME", "query:NAME" or "path". Requests without it are spread at random.',
      ),
    sticky: sticky.prefault({}),
    slow_start: duration(
      'Time over which a server that joins a running pool (on reload) or comes back (healthy again, back from ejection) ramps up from a tenth of its share to all of it. Default "0s": at once.',
    ).prefault('0s'),
    health_check: healthCheckSchema.optional(),
    outlier: outlierSchema.prefault({}),
    panic_threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        'When fewer than this share of primary servers is healthy and no backup is healthy, health is ignored and every server takes traffic, down ones included (panic mode, for servers whose checks fail while they still serve); a request refused by a down server is still retried on another. 0 never panics. Default 0.',
      ),
    retries: retries.prefault({}),
    limits: limits.prefault({}),
    host_header: z
      .string()
      .min(1)
      .optional()
      .describe('Host header sent to the servers. Default: the Host the client sent.'),
    timeouts: backendTimeouts.prefault({}),
    keepalive: keepalive.prefault({}),
    protocol: z
      .enum(['http1', 'h2'])
      .default('http1')
      .describe(
        'HTTP version towards the servers: "http1", or "h2" (HTTP/2: offered by ALPN with tls, falling back to HTTP/1.1 if the server picks it; prior knowledge h2c without). gRPC needs "h2". Default "http1".',
      ),
    tls: backendTlsSchema.optional(),
  })
  .superRefine((pool, ctx) => {
    if (pool.servers.length === 0 && pool.discover === undefined)
      ctx.addIssue({ code: 'custom', path: ['servers'], message: 'expected at least one server, or discover' })
    if (pool.balancer === 'hash' && pool.hash_key === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['hash_key'],
        message: 'the "hash" balancer needs hash_key, such as "header:x-user-id"',
      })
    }
  })
  .describe('A named pool of servers.')

export type PoolConfig = z.output<typeof poolSchema>
