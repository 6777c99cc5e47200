import { once } from 'node:events'
import type { Redis } from 'ioredis'
import type { EventLog } from '../../log/events.ts'
import { splitAddress } from '../../values/address.ts'
import type { GcraDecision, GcraParams } from './gcra.ts'
import type { RateStore } from './local-store.ts'
import type { RedisConfig } from './schema.ts'

// One atomic GCRA decision on Redis's own clock, so that instances whose clocks differ share one
// count. Times in microseconds (integers well inside a double's 53 bits); the key expires when its
// TAT passes, when it is as good as absent.
const script = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval
if nxt - now > interval + tolerance then return {0, tat - now} end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, nxt - now}
`

type GcraClient = Redis & { porticoGcra(key: string, interval: number, tolerance: number): Promise<[number, number]> }

/**
 * Counts kept in Redis, shared by every Portico instance that uses it: one script call per
 * decision. While Redis cannot be reached a decision rejects at once (no queue of commands builds
 * up); the client reconnects by itself. The change of state is logged once each way and every
 * failed decision is counted (`errors`).
 */
export class RedisStore implements RateStore {
  readonly #client: GcraClient
  readonly #timeoutMs: number
  readonly #prefix: string
  readonly #events: EventLog
  readonly #address: string
  #down = false
  /** Decisions Redis could not make. */
  errors = 0

  constructor(config: RedisConfig, events: EventLog, RedisClass: typeof Redis) {
    this.#timeoutMs = config.timeout
    this.#prefix = config.key_prefix
    this.#events = events
    this.#address = config.address
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: Math.max(1, Math.ceil(config.timeout)),
      connectTimeout: Math.max(1000, config.timeout),
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
      lazyConnect: false,
    }
    const client = config.address.includes('://')
      ? new RedisClass(config.address, options)
      : new RedisClass({ ...toHostPort(config.address), ...options })
    client.defineCommand('porticoGcra', { numberOfKeys: 1, lua: script })
    // Failures show in decisions; the listener keeps them from being thrown.
    client.on('error', (err: Error) => this.#fail(err))
    client.on('ready', () => this.#up())
    this.#client = client as GcraClient
  }

  async take(key: string, params: GcraParams): Promise<GcraDecision> {
    const client = this.#client
    // Only the first connection is waited for, within the timeout; later, a Redis that is away
    // fails the decision at once.
    if (client.status !== 'ready' && !this.#down) await this.#ready()
    try {
      const [allowed, aheadUs] = await client.porticoGcra(
        this.#prefix + key,
        Math.round(params.intervalMs * 1000),
        Math.round(params.toleranceMs * 1000),
      )
      return { allowed: allowed === 1, aheadMs: aheadUs / 1000 }
    } catch (err) {
      this.#fail(err as Error)
      throw err
    }
  }

  /** Closes the connection. */
  close(): void {
    this.#client.disconnect()
  }

  async #ready(): Promise<void> {
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(), this.#timeoutMs)
    try {
      await once(this.#client, 'ready', { signal: ac.signal })
    } catch {
      // Not ready in time: the command below fails and counts.
    } finally {
      clearTimeout(timer)
    }
  }

  #fail(err: Error): void {
    this.errors++
    if (this.#down) return
    this.#down = true
    this.#events.warn('rate limit store unreachable: limits apply their on_store_error until it is back', {
      redis: this.#address,
      error: err.message,
    })
  }

  #up(): void {
    if (!this.#down) return
    this.#down = false
    this.#events.info('rate limit store reachable again', { redis: this.#address, failed_decisions: this.errors })
  }
}

function toHostPort(address: string): { host: string; port: number } {
  const parts = splitAddress(address)
  return parts ? { host: parts.host, port: parts.port } : { host: address, port: 6379 }
}
