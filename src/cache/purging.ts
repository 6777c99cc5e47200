import { closeIfBodyUnread, reply, respondError } from '../answer/respond.ts'
import type { Exchange } from '../exchange.ts'
import { AddressSet } from '../http/cidr.ts'
import type { CacheShare, LowerTier } from './lower-tiers.ts'
import type { MemoryStore } from './memory-store.ts'
import { type PurgeRule, purgeRule, purges } from './purge.ts'
import type { CacheConfig } from './schema.ts'

/** What purges travel through between workers: the instance's shared map. */
export interface PurgeChannel {
  set(key: string, value: unknown): void
  watch(prefix: string, listener: (key: string, value: unknown) => void): () => void
}

let purgeCount = 0

/**
 * A route cache's purges: a PURGE from an allowed address, or an unsafe request's success,
 * removes what it names from every tier here and, through `shared`, in every other worker; with
 * `group`, in every other instance too.
 */
export class Purges {
  readonly #config: CacheConfig
  readonly #store: MemoryStore
  readonly #disk: LowerTier | undefined
  readonly #shared: PurgeChannel | undefined
  readonly #group: CacheShare | undefined
  readonly #key: string
  readonly #from: AddressSet

  /** `name` is the route's: purges travel between workers under it. */
  constructor(
    config: CacheConfig,
    name: string,
    stores: { memory: MemoryStore; disk: LowerTier | undefined },
    shared?: PurgeChannel,
    group?: CacheShare,
  ) {
    this.#config = config
    this.#store = stores.memory
    this.#disk = stores.disk
    this.#shared = shared
    this.#group = group
    this.#key = `cache-purge/${name}`
    this.#from = new AddressSet(config.purge.allow)
    // A reload builds new caches: the watcher holds this one weakly, so an old Plan's memory tier can go.
    const ref = new WeakRef(this)
    const stop = shared?.watch(this.#key, (_key, value) => {
      const purges = ref.deref()
      if (purges) purges.#apply((value as { rule: PurgeRule }).rule)
      else stop?.()
    })
    const stopGroup = group?.purges.subscribe(this.#key, (rule) => {
      const purges = ref.deref()
      if (purges) purges.#apply(rule, true)
      else stopGroup?.()
    })
  }

  /** Answers a PURGE: from an allowed address, removes what it names in every worker; else 405. */
  answer(x: Exchange): void {
    if (!this.#from.has(x.clientAddress)) {
      respondError(x, 'method_not_allowed', { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' })
      return
    }
    const n = this.broadcast(purgeRule(x, this.#config))
    x.cache = 'purge'
    closeIfBodyUnread(x)
    reply(x, 200, `Purged ${n}\n`)
  }

  /** Applies `rule` here and sends it to the other workers; returns how many responses went here. */
  broadcast(rule: PurgeRule): number {
    const n = this.#apply(rule)
    // Each purge is a new value, so that the same rule sent twice is applied twice.
    this.#shared?.set(this.#key, { rule, id: `${process.pid}-${++purgeCount}` })
    this.#group?.purges.publish(this.#key, rule)
    return n
  }

  /** `fromElsewhere`: another instance made the purge and cleared the tiers the instances share. */
  #apply(rule: PurgeRule, fromElsewhere = false): number {
    const test = (url: string, tags: readonly string[]) => purges(rule, url, tags)
    const n = this.#store.delete(test)
    return this.#disk ? Math.max(n, this.#disk.delete(test, fromElsewhere)) : n
  }
}
