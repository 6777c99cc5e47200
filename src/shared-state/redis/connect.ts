import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ConnectionOptions } from 'node:tls'
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { splitAddress } from '../../values/address.ts'
import type { RedisConfig } from './schema.ts'

type IoRedis = { Redis: typeof Redis; Cluster: typeof Cluster }

/**
 * A new ioredis client for `config`, connecting at once: one server, a master found through
 * Sentinels, or a Redis Cluster. Commands fail at once while it is not connected (no offline
 * queue), unless `queue` is set, as a subscriber needs; it reconnects by itself, forever.
 * A Cluster client is returned as the `Redis` type: it offers every command Portico uses.
 */
export function connectRedis(config: RedisConfig, queue = false): Redis {
  // Loaded only when Redis is used: most processes never need the client.
  const io = createRequire(import.meta.url)('ioredis') as IoRedis
  const options: RedisOptions = {
    enableOfflineQueue: queue,
    maxRetriesPerRequest: queue ? null : 0,
    commandTimeout: queue ? undefined : Math.max(1, Math.ceil(config.timeout)),
    connectTimeout: Math.max(1000, config.timeout),
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    // An empty value (an unset variable with an empty default) means none.
    username: config.username || undefined,
    password: config.password || undefined,
    tls: tlsOptions(config),
  }
  const nodes = (config.nodes.length > 0 ? config.nodes : [config.address]).map(hostPort)
  if (config.mode === 'cluster') {
    return new io.Cluster(nodes, {
      enableOfflineQueue: queue,
      clusterRetryStrategy: (times: number) => Math.min(50 * times, 1000),
      redisOptions: options,
    }) as unknown as Redis
  }
  if (config.mode === 'sentinel') {
    return new io.Redis({
      ...options,
      sentinels: nodes,
      name: config.master_name,
      sentinelPassword: config.password || undefined,
      sentinelRetryStrategy: (times: number) => Math.min(50 * times, 1000),
    })
  }
  return config.address.includes('://')
    ? new io.Redis(config.address, options)
    : new io.Redis({ ...hostPort(config.address), ...options })
}

function tlsOptions(config: RedisConfig): ConnectionOptions | undefined {
  const tls = config.tls
  if (!tls) return undefined
  return {
    ca: tls.ca === undefined ? undefined : readFileSync(tls.ca),
    servername: tls.server_name,
    rejectUnauthorized: tls.verify,
  }
}

function hostPort(address: string): { host: string; port: number } {
  const text = address.replace(/^rediss?:\/\//, '').replace(/\/.*$/, '')
  const parts = splitAddress(text)
  return parts ? { host: parts.host, port: parts.port } : { host: text, port: 6379 }
}
