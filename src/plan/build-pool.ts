import { isIP } from 'node:net'
import { hostName } from '../http/host-name.ts'
import { deriveKey, loadSecret } from '../instance/secret.ts'
import { alone, workerShare } from '../instance/worker-share.ts'
import { silentEvents } from '../log/events.ts'
import type { RedisConfig } from '../shared-state/redis/schema.ts'
import type { Balancer, BalancerOptions, HashKeySource } from '../upstream/balancers/balancer.ts'
import { balancers } from '../upstream/balancers/index.ts'
import { Pool, type PoolSettings } from '../upstream/pool/pool.ts'
import { RetryBudget } from '../upstream/retry-budget.ts'
import type { PoolConfig } from '../upstream/schema.ts'
import type { Server } from '../upstream/server.ts'
import type { BackendTlsSettings, ServerRegistry } from '../upstream/server-registry.ts'
import { splitAddress } from '../values/address.ts'
import type { PlanDeps } from './build.ts'

/**
 * Builds pool `name` of the next Plan: its servers (their live state taken from the registry, or
 * made there; each kept in `keep`), its balancer and its settings, limits split between workers.
 */
export function buildPool(
  name: string,
  config: PoolConfig,
  deps: PlanDeps,
  keep: Set<string>,
  redis?: RedisConfig,
): Pool {
  const { servers, joining, known } = poolServers(name, config, deps.registry, keep)
  // Limits meant for the instance, split between the workers so that their sum holds (each worker
  // gets at least 1 of a limit above 0); `max_conns` is lent by the primary instead (cluster/slot-bank.ts).
  const { index, count } = deps.place ?? alone
  const split = (total: number) => workerShare(total, index, count, true)
  // On the first Plan every server is new: only servers that join a running pool ramp up.
  const settings = poolSettings(config, split, known ? joining : [])
  return new Pool(name, servers, poolBalancer(name, config, deps, servers, redis), settings, {
    events: deps.events ?? silentEvents,
    forget: (s) => deps.registry.remove(name, s.origin),
    shared: deps.shared,
    leases: deps.leases,
  })
}

/** The pool's servers, those new to it (`joining`), and whether the pool served before (`known`). */
function poolServers(
  name: string,
  config: PoolConfig,
  registry: ServerRegistry,
  keep: Set<string>,
): { servers: Server[]; joining: Server[]; known: boolean } {
  const settings = {
    connectTimeoutMs: config.timeouts.connect,
    keepAliveIdleMs: config.keepalive.idle,
    maxConnections: config.keepalive.max_connections,
    tls: config.tls && {
      ca: config.tls.ca,
      cert: config.tls.cert,
      key: config.tls.key,
      servername: config.tls.server_name,
      verify: config.tls.verify,
    },
    http2: config.protocol === 'h2',
  }
  const joining: Server[] = []
  let poolKnown = false
  const servers: Server[] = config.servers.map((entry) => {
    const { address, weight, max_conns, backup } =
      typeof entry === 'string' ? { address: entry, weight: 1, max_conns: 0, backup: false } : entry
    const { host, port } = splitAddress(address)!
    const origin = `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
    keep.add(`${name}/${origin}`)
    const known = registry.has(name, origin)
    poolKnown ||= known
    const state = registry.get(
      name,
      origin,
      host,
      port,
      settings.tls ? { ...settings, tls: serverTls(settings.tls, host, config) } : settings,
    )
    const server = { address, host, port, origin, weight, maxConns: max_conns, backup, state }
    if (!known) joining.push(server)
    return server
  })
  return { servers, joining, known: poolKnown }
}

/** The pool's balancer, with a sticky balancer's fallback. */
function poolBalancer(
  name: string,
  config: PoolConfig,
  deps: PlanDeps,
  servers: readonly Server[],
  redis: RedisConfig | undefined,
): Balancer {
  const options: BalancerOptions = {
    pool: name,
    hashKey: config.hash_key === undefined ? undefined : hashKeySource(config.hash_key),
    sticky: {
      cookie: config.sticky.cookie,
      secret: config.sticky.secret ?? deriveKey(deps.secret ?? startSecret, 'sticky cookie', 32),
      maxAgeS: config.sticky.max_age === undefined ? undefined : Math.ceil(config.sticky.max_age / 1000),
      table: config.balancer === 'sticky' && redis ? deps.group?.sticky(redis) : undefined,
    },
    fallback: undefined,
    random: deps.random ?? Math.random,
  }
  const fallback = config.balancer === 'sticky' ? balancers[config.sticky.fallback](servers, options) : undefined
  return balancers[config.balancer](servers, { ...options, fallback })
}

/** The pool's settings in milliseconds; `split` gives this worker its share of an instance limit. */
function poolSettings(config: PoolConfig, split: (total: number) => number, joining: readonly Server[]): PoolSettings {
  const check = config.health_check
  return {
    hostHeader: config.host_header,
    timeouts: {
      connectMs: config.timeouts.connect,
      responseHeadersMs: config.timeouts.response_headers,
      bodyIdleMs: config.timeouts.body_idle,
    },
    retries: {
      attempts: config.retries.attempts,
      perTryMs: config.retries.per_try_timeout ?? config.timeouts.response_headers,
      budget: new RetryBudget(config.retries.budget, split(config.retries.budget_burst)),
    },
    maxInFlight: split(config.limits.max_in_flight),
    queueLength: split(config.limits.max_queued),
    queueTimeoutMs: config.limits.queue_timeout,
    retryAfterS: Math.ceil(config.limits.retry_after / 1000),
    slowStartMs: config.slow_start,
    joining,
    panicThreshold: config.panic_threshold,
    active: check && {
      intervalMs: check.interval,
      timeoutMs: check.timeout,
      rise: check.rise,
      fall: check.fall,
      http:
        check.type === 'tcp'
          ? undefined
          : {
              method: check.method,
              path: check.path,
              host: check.host,
              statuses: check.expect_status.map(statusRange),
              body: check.expect_body === undefined ? undefined : new RegExp(check.expect_body),
              maxBodyBytes: check.expect_body_bytes,
            },
    },
    unknownTakesTraffic: check?.unknown_takes_traffic ?? true,
    outlier: {
      consecutive: config.outlier.consecutive_failures,
      counts: new Set(config.outlier.failures),
      baseEjectionMs: config.outlier.base_ejection,
      maxEjectionMs: config.outlier.max_ejection,
      maxEjectedShare: config.outlier.max_ejected_share,
    },
  }
}

/** A server's TLS settings: the SNI name defaults to its host when that is a name, else to the pool's Host header. */
function serverTls(tls: BackendTlsSettings, host: string, config: PoolConfig): BackendTlsSettings {
  if (tls.servername !== undefined) return tls
  const name = isIP(host) === 0 ? host : config.host_header && hostName(config.host_header)
  return name ? { ...tls, servername: name } : tls
}

/** `"header:X-User"` → header `x-user`; cookie and query names keep their case, as they are compared. */
function hashKeySource(text: string): HashKeySource {
  const colon = text.indexOf(':')
  if (colon < 0) return { from: 'path', name: '' }
  const from = text.slice(0, colon) as HashKeySource['from']
  const name = text.slice(colon + 1)
  return { from, name: from === 'header' ? name.toLowerCase() : name }
}

/** `204` → [204, 204]; `"200-399"` → [200, 399]. */
function statusRange(range: number | string): [number, number] {
  const [lo, hi] = String(range).split('-').map(Number)
  return [lo!, hi ?? lo!]
}

/** The secret when the caller gives none: made once per process. */
const startSecret = loadSecret(undefined)
