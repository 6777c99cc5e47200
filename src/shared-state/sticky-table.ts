import type { EventLog } from '../log/events.ts'
import type { StickyTable } from '../upstream/balancers/balancer.ts'
import type { RedisLink } from './redis/link.ts'

/**
 * The sticky table of a group of instances, in Redis: one hash per pool (cookie value → server
 * address) and a channel that carries each instance's announcements. Lookups read a copy in this
 * process, filled from the hashes and kept current by the channel; after a reconnection the copy
 * is reloaded and this instance's pins are announced again (a restarted Redis has forgotten them).
 * While Redis is away the copy keeps answering as it last was.
 */
export class RedisStickyTable implements StickyTable {
  readonly #link: RedisLink
  readonly #events: EventLog
  readonly #channel: string
  readonly #copy = new Map<string, Map<string, string>>()
  readonly #own = new Map<string, ReadonlyMap<string, string>>()
  readonly #sent = new Map<string, string>()

  constructor(link: RedisLink, events: EventLog) {
    this.#link = link
    this.#events = events
    this.#channel = `${link.prefix}sticky`
    link.subscribe(this.#channel, (message) => this.#receive(message))
    link.onUp(() => {
      this.#sent.clear()
      for (const [pool, pins] of this.#own) this.announce(pool, pins)
    })
  }

  lookup(pool: string, value: string): string | undefined {
    return this.#copy.get(pool)?.get(value)
  }

  announce(pool: string, pins: ReadonlyMap<string, string>): void {
    this.#own.set(pool, pins)
    this.#merge(pool, pins)
    // Balancers announce at every change of their servers' health or weight: the same pins are sent once.
    const text = JSON.stringify([...pins])
    if (this.#sent.get(pool) === text) return
    if (!this.#link.up) return
    this.#sent.set(pool, text)
    void this.#send(pool, pins, text)
  }

  async #send(pool: string, pins: ReadonlyMap<string, string>, text: string): Promise<void> {
    const client = this.#link.client
    const key = this.#key(pool)
    try {
      if (pins.size > 0) await client.hset(key, Object.fromEntries(pins))
      await client.publish(this.#channel, JSON.stringify({ pool, pins: JSON.parse(text) }))
      this.#merge(pool, new Map(Object.entries(await client.hgetall(key))))
      this.#events.info('sticky pins shared', { pool, own: pins.size, known: this.#copy.get(pool)!.size })
    } catch (err) {
      // Sent again at the next reconnection.
      this.#sent.delete(pool)
      this.#link.failed(err)
    }
  }

  #receive(message: string): void {
    let news: { pool: string; pins: [string, string][] }
    try {
      news = JSON.parse(message)
    } catch {
      return
    }
    if (typeof news.pool === 'string' && Array.isArray(news.pins)) this.#merge(news.pool, new Map(news.pins))
  }

  #merge(pool: string, pins: ReadonlyMap<string, string>): void {
    let copy = this.#copy.get(pool)
    if (!copy) {
      copy = new Map()
      this.#copy.set(pool, copy)
    }
    for (const [value, address] of pins) if (typeof address === 'string') copy.set(value, address)
  }

  #key(pool: string): string {
    return `${this.#link.prefix}sticky:${pool}`
  }
}
