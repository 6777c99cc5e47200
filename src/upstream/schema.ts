import { z } from 'zod'
import { address } from '../config/common.ts'
import { duration } from '../config/units.ts'
import { backendTlsSchema } from '../tls/schema.ts'
import { balancerNames } from './balancers/index.ts'

const serverSchema = z.union([
  address.describe('A server as "host:port", with weight 1.'),
  z.strictObject({
    address: address.describe('The server\'s "host:port".'),
    weight: z.number().int().min(0).max(1000).default(1).describe('Relative share of requests (0 to 1000). Default 1.'),
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

/** One pool: a named set of servers and how requests are spread over them. */
export const poolSchema = z
  .strictObject({
    servers: z.array(serverSchema).min(1).describe('The servers of this pool.'),
    balancer: z.enum(balancerNames).prefault('round_robin').describe('How a server is chosen. Default "round_robin".'),
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
  .describe('A named pool of servers.')

export type PoolConfig = z.output<typeof poolSchema>
