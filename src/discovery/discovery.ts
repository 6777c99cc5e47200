import { Resolver } from 'node:dns/promises'
import { watchConfigFile } from '../admin/watch.ts'
import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import type { DiscoverEntry, DiscoveryConfig } from '../upstream/discover-schema.ts'
import { splitAddress } from '../values/address.ts'
import { type Found, type FoundServer, lookupName, lookupSrv } from './lookup.ts'
import { readServersFile } from './servers-file.ts'

/** Where discovery sends what it finds: the admin control, which adds and removes servers everywhere. */
export interface DiscoveryTarget {
  /**
   * The servers of `pool` changed: `expand` already gives those that `joined`, and still those
   * `leaving`, which must drain before `forget()` drops them from it. Calls run one at a time.
   */
  discovered(pool: string, joined: readonly string[], leaving: readonly string[], forget: () => void): Promise<void>
  /** The running config, whose pools' `discover` lists say which sources to follow. */
  current(): Config
}

/** One followed source of one pool, with the servers it last gave. */
interface Source {
  readonly key: string
  readonly pool: string
  readonly entry: DiscoverEntry
  servers: readonly FoundServer[]
  /** When it began to fail (Date.now()); undefined while it answers. */
  failingSince: number | undefined
  timer: NodeJS.Timeout | undefined
  unwatch: (() => void) | undefined
  stopped: boolean
}

/** How often the running config is read for sources added or dropped by a reload. */
const syncEveryMs = 1000

/**
 * Follows the `discover` sources of every pool: DNS names (A/AAAA, again as their TTL says, within
 * bounds), SRV names and servers files (watched). A source that fails keeps what it last gave for
 * `keep_last_known`. Each change goes to the target, which adds and removes servers as the admin
 * API does; `expand` writes what is found into a config, for the Plans the workers build.
 */
export class Discovery {
  readonly #settings: DiscoveryConfig
  readonly #events: EventLog
  readonly #resolver: Resolver
  readonly #sources = new Map<string, Source>()
  /** By pool: servers that left and are draining, kept in `expand` until the target forgets them. */
  readonly #leaving = new Map<string, Map<string, FoundServer>>()
  /** By pool: the servers found when the target was last told. */
  readonly #lastSent = new Map<string, Map<string, FoundServer>>()
  #target: DiscoveryTarget | undefined
  #sync: NodeJS.Timeout | undefined

  private constructor(settings: DiscoveryConfig, events: EventLog) {
    this.#settings = settings
    this.#events = events
    this.#resolver = new Resolver({ timeout: settings.timeout, tries: 1 })
    if (settings.resolvers) this.#resolver.setServers(settings.resolvers)
  }

  /** Starts following `config`'s sources and resolves once each has answered or failed once. */
  static async start(config: Config, events: EventLog): Promise<Discovery> {
    const discovery = new Discovery(config.discovery, events)
    await discovery.#follow(config)
    return discovery
  }

  /** Whether any pool of `config` has a `discover` list. */
  static wanted(config: Config): boolean {
    return Object.values(config.pools).some((p) => p.discover !== undefined)
  }

  /** Sends every later change to `target`, and follows the sources of the config it runs. */
  attach(target: DiscoveryTarget): void {
    this.#target = target
    this.#sync = setInterval(() => void this.#follow(target.current()), syncEveryMs).unref()
  }

  /** `config` with each discovering pool's servers: its own first, then those found, then those draining. */
  expand(config: Config): Config {
    const pools: Record<string, Config['pools'][string]> = {}
    for (const [name, pool] of Object.entries(config.pools)) {
      if (!pool.discover) {
        pools[name] = pool
        continue
      }
      const servers = [...pool.servers]
      const seen = new Set(servers.map((s) => (typeof s === 'string' ? s : s.address)))
      const add = (s: FoundServer) => {
        if (seen.has(s.address)) return
        seen.add(s.address)
        servers.push({ address: s.address, weight: s.weight, max_conns: 0, backup: false })
      }
      for (const source of this.#sources.values()) if (source.pool === name) source.servers.forEach(add)
      for (const s of this.#leaving.get(name)?.values() ?? []) add(s)
      pools[name] = { ...pool, servers }
    }
    return { ...config, pools }
  }

  /** Stops every timer and watcher. */
  close(): void {
    clearInterval(this.#sync)
    for (const source of this.#sources.values()) this.#stop(source)
  }

  /** Starts the sources `config` has that are not followed yet, and stops those it no longer has. */
  async #follow(config: Config): Promise<void> {
    const wanted = new Set<string>()
    const started: Promise<void>[] = []
    for (const [pool, poolConfig] of Object.entries(config.pools)) {
      for (const entry of poolConfig.discover ?? []) {
        const key = `${pool} ${JSON.stringify(entry)}`
        wanted.add(key)
        if (this.#sources.has(key)) continue
        const source: Source = {
          key,
          pool,
          entry,
          servers: [],
          failingSince: undefined,
          timer: undefined,
          unwatch: undefined,
          stopped: false,
        }
        this.#sources.set(key, source)
        if ('file' in entry)
          source.unwatch = watchConfigFile(entry.file, 100, () => {
            clearTimeout(source.timer)
            void this.#refresh(source)
          })
        started.push(this.#refresh(source))
      }
    }
    for (const source of this.#sources.values()) {
      if (wanted.has(source.key)) continue
      this.#stop(source)
      this.#sources.delete(source.key)
      if (config.pools[source.pool]) this.#changed(source.pool)
      else {
        // The pool itself is gone: nothing to drain, nothing to remember.
        this.#lastSent.delete(source.pool)
        this.#leaving.delete(source.pool)
      }
    }
    await Promise.all(started)
  }

  #stop(source: Source): void {
    source.stopped = true
    clearTimeout(source.timer)
    source.unwatch?.()
  }

  /** Asks the source again, keeps what it gives (or, failing, what it last gave), and plans the next ask. */
  async #refresh(source: Source): Promise<void> {
    const s = this.#settings
    const entry = source.entry
    let found: readonly FoundServer[] | undefined
    let nextMs: number
    try {
      const answer = await this.#lookup(entry)
      found = answer.servers
      if (source.failingSince !== undefined)
        this.#events.info('discovery source answers again', { pool: source.pool, ...entry })
      source.failingSince = undefined
      nextMs = 'dns' in entry ? Math.min(s.max_ttl, Math.max(s.min_ttl, answer.ttlMs ?? s.interval)) : s.interval
    } catch (err) {
      const now = Date.now()
      const error = (err as Error).message
      if (source.failingSince === undefined) {
        source.failingSince = now
        this.#events.warn('discovery source failed, its last known servers stay', {
          pool: source.pool,
          ...entry,
          error,
          servers: source.servers.map((x) => x.address),
          keep_ms: s.keep_last_known,
        })
      }
      if (now - source.failingSince >= s.keep_last_known && source.servers.length > 0) {
        this.#events.error('discovery source failed too long, its servers leave', {
          pool: source.pool,
          ...entry,
          error,
        })
        found = []
      }
      nextMs = 'file' in entry ? s.interval : s.min_ttl
    }
    if (source.stopped) return
    if (found) this.#set(source, found)
    clearTimeout(source.timer)
    source.timer = setTimeout(() => void this.#refresh(source), nextMs).unref()
  }

  #lookup(entry: DiscoverEntry): Promise<Found> {
    if ('dns' in entry) {
      const { host, port } = splitAddress(entry.dns)!
      return lookupName(this.#resolver, host, port, entry.weight)
    }
    if ('srv' in entry) return lookupSrv(this.#resolver, entry.srv)
    return readServersFile(entry.file).then((servers) => ({ servers, ttlMs: undefined }))
  }

  /** Takes what a source found; tells the target when the pool's servers changed. */
  #set(source: Source, found: readonly FoundServer[]): void {
    source.servers = found
    this.#changed(source.pool)
  }

  /** The pool's servers found now, by address (the first source that names one wins). */
  #found(pool: string): Map<string, FoundServer> {
    const out = new Map<string, FoundServer>()
    for (const source of this.#sources.values())
      if (source.pool === pool) for (const s of source.servers) if (!out.has(s.address)) out.set(s.address, s)
    return out
  }

  /** Compares the pool's servers found now with those last told, and tells the target what changed. */
  #changed(pool: string): void {
    const before = this.#lastSent.get(pool) ?? new Map<string, FoundServer>()
    const after = this.#found(pool)
    this.#lastSent.set(pool, after)
    const joined = [...after.keys()].filter((a) => !before.has(a))
    const left = [...before.keys()].filter((a) => !after.has(a))
    const reweighed = [...after.values()].some(
      (s) => before.has(s.address) && before.get(s.address)!.weight !== s.weight,
    )
    if (joined.length === 0 && left.length === 0 && !reweighed) return
    this.#events.info('discovered servers changed', { pool, joined, left })
    const target = this.#target
    if (!target) return
    const leaving = this.#leaving.get(pool) ?? new Map<string, FoundServer>()
    this.#leaving.set(pool, leaving)
    for (const a of joined) leaving.delete(a)
    for (const a of left) leaving.set(a, before.get(a)!)
    void target
      .discovered(pool, joined, left, () => {
        // A server found again while it drained stays.
        const now = this.#found(pool)
        for (const a of left) if (!now.has(a)) leaving.delete(a)
      })
      .catch((err: Error) => this.#events.error('discovered servers not applied', { pool, error: err.message }))
  }
}
