import type { Config } from '../config/schema.ts'

/** A server entry as the config holds it once validated: an address alone, or with its settings. */
type ServerEntry = Config['pools'][string]['servers'][number]

/** One change made through the admin API that the config file does not have. */
export interface Change {
  readonly pool: string
  readonly server: string
  /** `added` and `removed` servers, a `weight` other than the file's, or `draining`. */
  readonly change: 'added' | 'removed' | 'weight' | 'draining'
  /** The file's weight, for a `weight` change. */
  readonly file?: number
  /** The weight now, for `weight` and `added`. */
  readonly now?: number
}

/**
 * The changes made through the admin API on top of the config file: weights, added and removed
 * servers (applied by building a config from the file's, `apply`), and drained servers (live
 * state, told to every worker). Kept by the process that serves the API and replayed to workers
 * that start later. A reload from the file forgets the config changes; drains stay.
 */
export class Overlay {
  readonly #weights = new Map<string, number>()
  readonly #added = new Map<string, { pool: string; address: string; weight: number }>()
  readonly #removed = new Set<string>()
  readonly #drained = new Set<string>()

  /** `pool/address` of every drained server. */
  get drained(): readonly string[] {
    return [...this.#drained]
  }

  isDrained(pool: string, address: string): boolean {
    return this.#drained.has(`${pool}/${address}`)
  }

  drain(pool: string, address: string): void {
    this.#drained.add(`${pool}/${address}`)
  }

  enable(pool: string, address: string): void {
    this.#drained.delete(`${pool}/${address}`)
  }

  setWeight(pool: string, address: string, weight: number): void {
    const key = `${pool}/${address}`
    const added = this.#added.get(key)
    if (added) added.weight = weight
    else this.#weights.set(key, weight)
  }

  add(pool: string, address: string, weight: number): void {
    const key = `${pool}/${address}`
    if (this.#removed.delete(key)) this.#weights.set(key, weight)
    else this.#added.set(key, { pool, address, weight })
  }

  remove(pool: string, address: string): void {
    const key = `${pool}/${address}`
    this.#weights.delete(key)
    this.#drained.delete(key)
    if (!this.#added.delete(key)) this.#removed.add(key)
  }

  /** Forgets the config changes (weights, added, removed) and returns them; drains stay. */
  forgetConfigChanges(file: Config): Change[] {
    const undone = this.changes(file).filter((c) => c.change !== 'draining')
    this.#weights.clear()
    this.#added.clear()
    this.#removed.clear()
    return undone
  }

  /** The file's config with these changes made. */
  apply(file: Config): Config {
    const pools: Record<string, Config['pools'][string]> = {}
    for (const [name, pool] of Object.entries(file.pools)) {
      const servers = pool.servers
        .map(entryOf)
        .filter((s) => !this.#removed.has(`${name}/${s.address}`))
        .map((s) => ({ ...s, weight: this.#weights.get(`${name}/${s.address}`) ?? s.weight }))
      for (const a of this.#added.values()) {
        if (a.pool === name) servers.push({ address: a.address, weight: a.weight, max_conns: 0, backup: false })
      }
      pools[name] = { ...pool, servers }
    }
    return { ...file, pools }
  }

  /** What differs from the file: every change made through the API and still in effect. */
  changes(file: Config): Change[] {
    const out: Change[] = []
    for (const [name, pool] of Object.entries(file.pools)) {
      for (const s of pool.servers.map(entryOf)) {
        const key = `${name}/${s.address}`
        if (this.#removed.has(key)) out.push({ pool: name, server: s.address, change: 'removed' })
        const weight = this.#weights.get(key)
        if (weight !== undefined && weight !== s.weight)
          out.push({ pool: name, server: s.address, change: 'weight', file: s.weight, now: weight })
      }
    }
    for (const a of this.#added.values()) out.push({ pool: a.pool, server: a.address, change: 'added', now: a.weight })
    const running = this.apply(file).pools
    for (const key of this.#drained) {
      const at = key.indexOf('/')
      const [pool, server] = [key.slice(0, at), key.slice(at + 1)]
      // A drained server the file no longer has is gone: nothing to report.
      if (running[pool]?.servers.some((s) => entryOf(s).address === server))
        out.push({ pool, server, change: 'draining' })
    }
    return out
  }
}

/** A server entry with every setting spelled out. */
export function entryOf(entry: ServerEntry): { address: string; weight: number; max_conns: number; backup: boolean } {
  return typeof entry === 'string' ? { address: entry, weight: 1, max_conns: 0, backup: false } : { ...entry }
}
