import type { Redis } from 'ioredis'
import type { RedisLink } from '../../shared-state/redis/link.ts'
import type { GcraDecision, GcraParams } from './gcra.ts'
import type { RateStore } from './local-store.ts'

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
 * decision, through the process's link to that Redis. While Redis cannot be reached a decision
 * rejects at once (no queue of commands builds up); the link reconnects by itself, logs the loss
 * once each way and counts every failed command.
 */
export class RedisStore implements RateStore {
  readonly #link: RedisLink
  readonly #client: GcraClient
  readonly #prefix: string

  constructor(link: RedisLink) {
    this.#link = link
    this.#prefix = `${link.prefix}rl:`
    // Defined once per client: several stores may share one link.
    const client = link.client as GcraClient
    if (typeof client.porticoGcra !== 'function') client.defineCommand('porticoGcra', { numberOfKeys: 1, lua: script })
    this.#client = client
  }

  /** Decisions Redis could not make, over every user of the link. */
  get errors(): number {
    return this.#link.failures
  }

  async take(key: string, params: GcraParams): Promise<GcraDecision> {
    // Only the first connection is waited for, within the timeout; later, a Redis that is away
    // fails the decision at once.
    if (!this.#link.up) await this.#link.ready()
    try {
      const [allowed, aheadUs] = await this.#client.porticoGcra(
        this.#prefix + key,
        Math.round(params.intervalMs * 1000),
        Math.round(params.toleranceMs * 1000),
      )
      return { allowed: allowed === 1, aheadMs: aheadUs / 1000 }
    } catch (err) {
      this.#link.failed(err)
      throw err
    }
  }
}
