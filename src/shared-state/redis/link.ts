import { once } from 'node:events'
import type { Redis } from 'ioredis'
import type { EventLog } from '../../log/events.ts'
import { connectRedis } from './connect.ts'
import type { RedisConfig } from './schema.ts'

type MessageHandler = (message: string) => void

/**
 * One process's connection to the Redis of a `redis` section, shared by everything that uses it
 * (rate limits, the sticky table, the cache tier, purges, admin changes). Commands fail at once
 * while Redis is away, so nothing waits on it; the client reconnects by itself. A loss is logged
 * once and counted (`losses`), its end logged once; `onUp` listeners run at every (re)connection,
 * so that state kept in Redis can be caught up with. Channels are listened to on a second
 * connection, made on the first `subscribe`, which subscribes again after a reconnection.
 */
export class RedisLink {
  readonly client: Redis
  readonly config: RedisConfig
  readonly #events: EventLog
  #subscriber: Redis | undefined
  /** Whether the listening connection is subscribed now (its PING after 'ready' answered). */
  #subscribed = false
  readonly #handlers = new Map<string, Set<MessageHandler>>()
  readonly #upListeners = new Set<() => void>()
  #down = false
  #closed = false
  /** Times the connection was lost (or could not be made at start). */
  losses = 0
  /** Commands that failed: Redis away, too slow, or refusing. */
  failures = 0

  constructor(config: RedisConfig, events: EventLog) {
    this.config = config
    this.#events = events
    this.client = connectRedis(config)
    // Failures show in the commands that fail; the listener keeps them from being thrown.
    this.client.on('error', (err: Error) => this.#lose(err.message))
    this.client.on('close', () => {
      if (!this.#closed) this.#lose('connection closed')
    })
    this.client.on('ready', () => {
      this.#back()
      // With a listening connection, once both are back (whichever comes second runs them).
      if (!this.#subscriber || this.#subscribed) this.#joined()
    })
  }

  /** Whether commands can be sent now. */
  get up(): boolean {
    return this.client.status === 'ready'
  }

  /** The key prefix of the group: every key and channel name starts with it. */
  get prefix(): string {
    return this.config.key_prefix
  }

  /**
   * Resolves true once connected, at once when connected already; false after `timeoutMs`
   * (or at once when a loss was seen: a Redis away does not hold anything up).
   */
  async ready(timeoutMs = this.config.timeout): Promise<boolean> {
    if (this.up) return true
    if (this.#down) return false
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(), timeoutMs)
    try {
      await once(this.client, 'ready', { signal: ac.signal })
      return true
    } catch {
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Calls `listener` each time the process is back in the group: connected, and subscribed when it
   * listens to channels (at start and after each reconnection); returns a function that stops the calls.
   */
  onUp(listener: () => void): () => void {
    this.#upListeners.add(listener)
    return () => this.#upListeners.delete(listener)
  }

  /** Counts a command that failed, and logs the loss once when it is one. */
  failed(err: unknown): void {
    this.failures++
    if (!this.up) this.#lose((err as Error).message)
  }

  /** Calls `handler` with each message published on `channel` (prefix included by the caller). */
  subscribe(channel: string, handler: MessageHandler): () => void {
    let set = this.#handlers.get(channel)
    if (!set) {
      set = new Set()
      this.#handlers.set(channel, set)
      void this.#listener()
        .subscribe(channel)
        .catch(() => {})
    }
    set.add(handler)
    return () => {
      set.delete(handler)
      if (set.size === 0) {
        this.#handlers.delete(channel)
        void this.#subscriber?.unsubscribe(channel).catch(() => {})
      }
    }
  }

  /** Closes both connections. */
  close(): void {
    this.#closed = true
    this.client.disconnect()
    this.#subscriber?.disconnect()
  }

  #listener(): Redis {
    if (this.#subscriber) return this.#subscriber
    const sub = connectRedis(this.config, true)
    // The main connection logs losses; this one only has to keep listening.
    sub.on('error', () => {})
    sub.on('message', (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message)
    })
    // Subscribed (again, after a reconnection): news missed meanwhile is caught up with. ioredis
    // sends the SUBSCRIBE commands before 'ready' is emitted, so once a PING sent after them is
    // answered, nothing published from then on is missed.
    sub.on('ready', () => {
      sub
        .ping()
        .then(() => {
          this.#subscribed = true
          if (this.up) this.#joined()
        })
        .catch(() => {})
    })
    sub.on('close', () => {
      this.#subscribed = false
    })
    this.#subscriber = sub
    return sub
  }

  #joined(): void {
    for (const listener of this.#upListeners) listener()
  }

  #lose(reason: string): void {
    if (this.#down || this.#closed) return
    this.#down = true
    this.losses++
    this.#events.warn(
      'Redis store unreachable: rate limits apply their on_store_error, shared state runs on this instance alone until it is back',
      { redis: this.#where(), error: reason },
    )
  }

  #back(): void {
    if (!this.#down) return
    this.#down = false
    this.#events.info('Redis store reachable again', { redis: this.#where(), failed_commands: this.failures })
  }

  #where(): string {
    // A URL may hold a password: only its host is told.
    const a = this.config.address
    return a.includes('://') ? a.replace(/\/\/[^@/]*@/, '//') : a
  }
}

/** The links of one Portico, one per distinct `redis` section, kept across reloads. */
export class RedisLinks {
  readonly #links = new Map<string, RedisLink>()

  /** The link for `config`, connected on first use. */
  get(config: RedisConfig, events: EventLog): RedisLink {
    const id = JSON.stringify(config)
    let link = this.#links.get(id)
    if (!link) {
      link = new RedisLink(config, events)
      this.#links.set(id, link)
    }
    return link
  }

  /** Every link made so far. */
  all(): IterableIterator<RedisLink> {
    return this.#links.values()
  }

  /** Closes every link. */
  close(): void {
    for (const link of this.#links.values()) link.close()
    this.#links.clear()
  }
}
