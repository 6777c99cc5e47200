import { LRUCache } from 'lru-cache'
import { type GcraDecision, type GcraParams, gcra } from './gcra.ts'

/** Where rate-limit counts live; one decision per call. */
export interface RateStore {
  /** Counts one request against `key`; rejects when the store cannot answer. */
  take(key: string, params: GcraParams): GcraDecision | Promise<GcraDecision>
}

/**
 * The counts of one process, in memory: each key's TAT, at most `maxKeys` of them (the least
 * recently used go first, so that a flood of new keys cannot grow memory without bound; a key
 * dropped that way starts whole again). A key whose TAT has passed is as good as absent.
 */
export class LocalStore implements RateStore {
  readonly #tats: LRUCache<string, number>
  readonly #now: () => number

  constructor(now: () => number = performance.now.bind(performance), maxKeys = 100_000) {
    this.#now = now
    this.#tats = new LRUCache({ max: maxKeys })
  }

  take(key: string, params: GcraParams): GcraDecision {
    const now = this.#now()
    const d = gcra(this.#tats.get(key) ?? 0, now, params)
    if (d.allowed) this.#tats.set(key, d.tat)
    return d
  }
}
