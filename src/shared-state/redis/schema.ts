import { z } from 'zod'
import { existingPath } from '../../values/common.ts'
import { duration } from '../../values/units.ts'

/** What several instances share through Redis besides `store: redis` rate limits. */
export const shareNames = ['sticky', 'cache', 'changes', 'health'] as const
export type ShareName = (typeof shareNames)[number]

const tls = z
  .strictObject({
    ca: existingPath('file', 'an existing PEM file')
      .optional()
      .describe('PEM file of the CA that signed the Redis certificate. Default: the system CAs.'),
    server_name: z.string().optional().describe('Name the certificate must carry. Default: the host connected to.'),
    verify: z
      .boolean()
      .prefault(true)
      .describe('Whether the certificate is checked; false only for tests against a self-signed Redis. Default true.'),
  })
  .describe('Connect over TLS (as a rediss:// URL does). Default: plain TCP.')

/** The top-level `redis` section: the Redis that several Portico instances share state through. */
export const redisSchema = z
  .strictObject({
    address: z
      .string()
      .prefault('127.0.0.1:6379')
      .describe(
        'host:port of the Redis server, or a redis:// or rediss:// URL (rediss:// connects over TLS). In "sentinel" and "cluster" mode, used when `nodes` is empty. Default "127.0.0.1:6379".',
      ),
    mode: z
      .enum(['single', 'sentinel', 'cluster'])
      .prefault('single')
      .describe(
        '"single": one Redis server (or a replica set behind one address); "sentinel": ask the Sentinels in `nodes` which server is the master of `master_name`, and follow a failover; "cluster": a Redis Cluster reached through the seed `nodes`. Default "single".',
      ),
    nodes: z
      .array(z.string())
      .default([])
      .describe(
        'host:port of the Sentinels ("sentinel" mode) or of the cluster\'s seed nodes ("cluster" mode). Default: `address`.',
      ),
    master_name: z
      .string()
      .prefault('mymaster')
      .describe('In "sentinel" mode, the name the Sentinels know the master by. Default "mymaster".'),
    username: z.string().optional().describe('ACL user name (Redis 6 and later). Default: none, the default user.'),
    password: z.string().optional().describe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${NAME} syntax, shown to the user.
      'Password Redis asks for; write "${REDIS_PASSWORD}" to take it from the environment. Never logged. Default: none.',
    ),
    tls: tls.optional(),
    timeout: duration(
      'How long a command may wait for Redis before it counts as failed: a rate limit applies its `on_store_error`, a cache lookup goes to the backend. Default "100ms".',
    ).prefault('100ms'),
    key_prefix: z
      .string()
      .prefault('portico:')
      .describe(
        'Prefix of every key and channel Portico uses in Redis: instances with the same prefix form one group. Default "portico:".',
      ),
    share: z
      .array(z.enum(shareNames))
      .default([])
      .describe(
        'What else the instances share: "sticky" (a client pinned by one instance is sent to the same server by all), "cache" (a Redis tier under every cached route\'s memory and disk tiers, and purges that reach every instance), "changes" (server drains, weights, additions and removals made through one instance apply on all, in order, also on an instance that starts or reconnects later), "health" (a server the active checks of one instance find down is avoided by all, until their own checks bring it back). Default none: only `store: redis` rate limits use Redis.',
      ),
  })
  .describe(
    "The Redis that several Portico instances share state through: `store: redis` rate limits always, and what `share` names. Each process keeps one connection (two with any `share`: one listens for the others' news) and reconnects by itself; while Redis is away every instance serves on its own state.",
  )

export type RedisConfig = z.infer<typeof redisSchema>
