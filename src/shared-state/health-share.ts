import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { SharedState } from '../instance/shared-state.ts'
import type { RedisLink } from './redis/link.ts'

/** A verdict as the machine's shared state holds it under `health/<pool>/<address>`. */
interface Verdict {
  readonly health: string
  readonly reason: string
  /** Set on a verdict another instance found, so that it is not sent back. */
  readonly elsewhere?: string
}

/**
 * Health observations between instances: when this machine's active checks find a server down,
 * the other instances of the group are told, over a Redis channel, and avoid it too until their
 * own checks bring it back (`rise` passes in a row). Only downs travel: each instance decides for
 * itself when a server is healthy, so instances that disagree do not flap each other. Run by the
 * machine's leader (the process that checks), which hands what it hears to its workers through
 * the shared state; only pools with a `health_check` apply it. Nothing is kept in Redis: an
 * instance that (re)connects asks, and every other tells again the downs its checks see now.
 */
export class HealthShare {
  readonly #link: RedisLink
  readonly #shared: SharedState
  readonly #channel: string
  // Tells this process's own messages from the others'.
  readonly #origin = randomUUID()
  /** Servers this machine's own checks find down now, by key, with why. */
  readonly #down = new Map<string, string>()

  constructor(link: RedisLink, shared: SharedState) {
    this.#link = link
    this.#shared = shared
    this.#channel = `${link.prefix}health`
    shared.watch('health/', (key, value) => this.#found(key, value as Verdict | undefined))
    link.subscribe(this.#channel, (message) => this.#receive(message))
    link.onUp(() => {
      this.#send({ ask: true })
      for (const [key, reason] of this.#down) this.#send({ key, reason })
    })
  }

  #found(key: string, verdict: Verdict | undefined): void {
    if (!this.#shared.leader || verdict?.elsewhere) return
    if (verdict?.health !== 'unhealthy') {
      this.#down.delete(key)
      return
    }
    this.#down.set(key, verdict.reason)
    this.#send({ key, reason: verdict.reason })
  }

  #send(news: { key: string; reason: string } | { ask: true }): void {
    if (!this.#shared.leader || !this.#link.up) return
    const message = JSON.stringify({ ...news, origin: this.#origin, host: hostname() })
    this.#link.client.publish(this.#channel, message).catch((err: unknown) => this.#link.failed(err))
  }

  #receive(message: string): void {
    if (!this.#shared.leader) return
    let news: { key: string; reason: string; origin: string; host: string; ask?: boolean }
    try {
      news = JSON.parse(message)
    } catch {
      return
    }
    if (news.origin === this.#origin) return
    if (news.ask) {
      for (const [key, reason] of this.#down) this.#send({ key, reason })
      return
    }
    if (typeof news.key !== 'string' || !news.key.startsWith('health/')) return
    const current = this.#shared.get(news.key) as Verdict | undefined
    if (current?.health === 'unhealthy') return
    const verdict: Verdict = {
      health: 'unhealthy',
      reason: `found down by another instance (${news.host}): ${news.reason}`,
      elsewhere: news.host,
    }
    this.#shared.set(news.key, verdict)
  }
}
