import type { Exchange } from '../../exchange.ts'
import type { EventLog } from '../../log/events.ts'
import type { RequestPhase, Verdict } from '../phase.ts'
import { type GcraDecision, type GcraParams, remaining, retryAfterMs } from './gcra.ts'
import { compileKey } from './key.ts'
import type { RateStore } from './local-store.ts'
import type { RateLimitConfig } from './schema.ts'

/** What a limit did, since the process started (kept across reloads), for logs and metrics. */
export interface RateCounts {
  /** Requests answered 429 (over the limit, or the store failed with `on_store_error: closed`). */
  rejected: number
  /** Requests held until their turn. */
  delayed: number
  /** Requests over a shadow limit, let through. */
  shadowed: number
  /** Decisions the store could not make. */
  storeErrors: number
}

/** One limit of a route, built from its config. */
export interface Limit {
  readonly name: string
  readonly key: (x: Exchange) => string
  readonly params: GcraParams
  readonly burst: number
  readonly action: RateLimitConfig['action']
  readonly noDelay: number
  readonly store: RateStore
  readonly failOpen: boolean
  readonly counts: RateCounts
  /** `"name";q=<burst>;w=<seconds to refill it>`, the limit's RateLimit-Policy item. */
  readonly policy: string
  /** Whether the answers it lets through carry its RateLimit headers. */
  readonly advertised: boolean
}

/** Builds a limit; `store` is where its counts live, `counts` what it did. */
export function buildLimit(
  config: RateLimitConfig,
  name: string,
  routeName: string,
  store: RateStore,
  counts: RateCounts,
): Limit {
  const intervalMs = config.per / config.rate
  const windowS = Math.max(1, Math.round((config.burst * intervalMs) / 1000))
  return {
    name,
    key: compileKey(config.key, routeName),
    params: { intervalMs, toleranceMs: (config.burst - 1) * intervalMs },
    burst: config.burst,
    action: config.action,
    noDelay: config.no_delay,
    store,
    failOpen: config.on_store_error === 'open',
    counts,
    policy: `"${name}";q=${config.burst};w=${windowS}`,
    advertised: config.headers && config.action !== 'shadow',
  }
}

/**
 * The request phase of a route's rate limits: each limit counts the request in turn, and the first
 * one exceeded answers 429 (`rate_limited`) with Retry-After and the IETF RateLimit-Policy and
 * RateLimit headers, holds the request until its turn ("delay"), or only logs ("shadow"). A limit
 * whose store fails lets the request through or refuses it, as its `on_store_error` says. Stays
 * synchronous while every store answers at once (the process's own counts).
 */
export class RateLimitPhase implements RequestPhase {
  readonly #limits: readonly Limit[]
  readonly #events: EventLog
  readonly #now: () => number
  readonly #shadowLogged = new Map<string, number>()

  constructor(limits: readonly Limit[], events: EventLog, now: () => number = Date.now) {
    this.#limits = limits
    this.#events = events
    this.#now = now
  }

  onRequest(x: Exchange): Verdict | Promise<Verdict> {
    return this.#from(x, 0)
  }

  #from(x: Exchange, first: number): Verdict | Promise<Verdict> {
    const limits = this.#limits
    for (let i = first; i < limits.length; i++) {
      const limit = limits[i]!
      let d: GcraDecision | Promise<GcraDecision>
      try {
        d = limit.store.take(`${limit.name}\n${limit.key(x)}`, limit.params)
      } catch {
        d = Promise.reject(new Error('rate limit store failed'))
      }
      if (d instanceof Promise) {
        return d.then(
          (decided) => this.#after(x, limit, decided, i),
          () => {
            limit.counts.storeErrors++
            return limit.failOpen ? this.#from(x, i + 1) : this.#refuse(x, limit, undefined)
          },
        )
      }
      const verdict = this.#decide(x, limit, d)
      if (verdict !== undefined) return verdict
    }
    return undefined
  }

  #after(x: Exchange, limit: Limit, d: GcraDecision, i: number): Verdict | Promise<Verdict> {
    const verdict = this.#decide(x, limit, d)
    if (verdict === undefined) return this.#from(x, i + 1)
    if (typeof verdict === 'string' || verdict === null) return verdict
    return verdict.then((v) => (v === undefined ? this.#from(x, i + 1) : v))
  }

  /** What one decision means for the exchange: pass on (undefined), refuse, or wait first. */
  #decide(x: Exchange, limit: Limit, d: GcraDecision): Verdict | Promise<Verdict> {
    if (!d.allowed) {
      if (limit.action === 'shadow') {
        limit.counts.shadowed++
        this.#logShadow(limit)
        return undefined
      }
      return this.#refuse(x, limit, d)
    }
    if (limit.advertised) advertise(x, limit, d)
    if (limit.action !== 'delay') return undefined
    const waitMs = d.aheadMs - limit.params.intervalMs * (1 + limit.noDelay)
    if (waitMs <= 0) return undefined
    limit.counts.delayed++
    return wait(x, waitMs)
  }

  #refuse(x: Exchange, limit: Limit, d: GcraDecision | undefined): Verdict {
    limit.counts.rejected++
    const p = limit.params
    const retryS = d ? Math.max(1, Math.ceil(retryAfterMs(d, p) / 1000)) : 1
    const resetS = d ? Math.max(1, Math.ceil(d.aheadMs / 1000)) : 1
    x.answerHeaders = {
      'retry-after': String(retryS),
      // draft-ietf-httpapi-ratelimit-headers: the policy as a quota over a window, and what is left of it.
      'ratelimit-policy': limit.policy,
      ratelimit: `"${limit.name}";r=${d ? remaining(d, p) : 0};t=${resetS}`,
    }
    return 'rate_limited'
  }

  /** Logs a shadow limit's excess at most once a second per limit, with how many it saw since. */
  #logShadow(limit: Limit): void {
    const now = this.#now()
    const last = this.#shadowLogged.get(limit.name)
    if (last !== undefined && now - last < 1000) return
    this.#shadowLogged.set(limit.name, now)
    this.#events.warn('rate limit exceeded (shadow: let through)', {
      limit: limit.name,
      shadowed: limit.counts.shadowed,
    })
  }
}

/** Notes what `limit` let through on the exchange, for the RateLimit headers of its answer. */
function advertise(x: Exchange, limit: Limit, d: GcraDecision): void {
  const state = `"${limit.name}";r=${remaining(d, limit.params)};t=${Math.max(1, Math.ceil(d.aheadMs / 1000))}`
  ;(x.rateLimits ??= []).push([limit.policy, state])
}

/** Holds the exchange for `ms`; a client that leaves meanwhile ends it at once. */
function wait(x: Exchange, ms: number): Promise<Verdict> {
  return new Promise((resolve) => {
    const signal = x.abort.signal
    const done = () => {
      clearTimeout(timer)
      resolve('client_aborted')
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done)
      resolve(undefined)
    }, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
