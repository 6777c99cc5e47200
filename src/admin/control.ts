import { ConfigError, formatProblem } from '../config/problem.ts'
import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import { countReload } from '../metrics/exposition.ts'
import { splitAddress } from '../values/address.ts'
import { AdminError } from './admin-error.ts'
import { type AgentRequest, drainedKey } from './agent.ts'
import { type AdminGroup, groupView } from './group.ts'
import { applyFromGroup } from './group-changes.ts'
import { instanceView } from './instance-view.ts'
import type { PoolView, ServerView, WorkerView } from './live-state.ts'
import { masked } from './mask.ts'
import { type Change, entryOf, Overlay } from './overlay.ts'
import { type PurgeInput, purgeOn } from './purge.ts'

/** The serving processes, as the admin API reaches them: the workers through the primary, or Portico alone. */
export interface Fleet {
  /** The listener URLs, as bound. */
  readonly urls: readonly string[]
  /** Asks every serving process and resolves with their answers. */
  ask(request: AgentRequest): Promise<WorkerView[]>
  /** Sets a shared-state key in every serving process, those started later included. */
  share(key: string, value: unknown): void
  /** Applies a validated config in every serving process; rejects with the first refusal. */
  reload(config: Config): unknown
}

/** What a reload did, or would do (`dry_run`). */
export interface ReloadResult {
  readonly ok: boolean
  /** Changes made through the API that the reload undid (or would undo). */
  readonly undone: readonly Change[]
  readonly errors?: readonly string[]
  readonly ms: number
}

/** What the control needs: the config file, how to read and check it, the event log. */
export interface ControlDeps {
  /** The config file; undefined for the demo, which has none to reload. */
  readonly file: string | undefined
  /** Reads and validates a config file (in a child process: the serving process never loads the schema). */
  readonly load: (file: string) => Promise<Config>
  readonly events: EventLog
  readonly version: string
  /** Writes the servers that discovery found into a config (docs/discovery.md). Default: none found. */
  readonly expand?: (file: Config) => Config
  /** How long a server that discovery no longer finds drains before it leaves anyway. Default 30 s. */
  readonly discoveryDrainMs?: number
  /** The instance's group (`redis`): changes are published to it and applied from it. */
  readonly group?: AdminGroup
}

/**
 * The admin API's verbs over the running instance: reads its config and live state, and changes
 * it (drain, enable, weight, add, remove, reload). Changes run one at a time, in arrival order;
 * each is logged with the name of the token that made it.
 */
export class Control {
  readonly #fleet: Fleet
  readonly #deps: ControlDeps
  readonly #overlay = new Overlay()
  #file: Config
  #version = 1
  #loadedAt = new Date()
  #lastReloadError: { readonly at: string; readonly errors: readonly string[] } | undefined
  #queue: Promise<unknown> = Promise.resolve()
  readonly #reloads = { applied: 0, refused: 0 }

  constructor(fleet: Fleet, file: Config, deps: ControlDeps) {
    this.#fleet = fleet
    this.#file = file
    this.#deps = deps
    // Changes other instances make apply here as this API's own would, in turn with them.
    const target = { overlay: this.#overlay, running: () => this.effective, events: deps.events }
    const update = (config: boolean) => (config ? this.#apply() : Promise.resolve()).then(() => this.#shareDrains())
    deps.group?.follow((change, version) => this.#serial(() => applyFromGroup({ ...target, update }, change, version)))
  }

  /** Reloads from the file applied and refused since start, whatever asked for them (for the metrics). */
  get reloads(): { readonly applied: number; readonly refused: number } {
    return { ...this.#reloads }
  }

  /** The config running now: the file's with the API's changes. */
  get effective(): Config {
    return this.#overlay.apply(this.#deps.expand ? this.#deps.expand(this.#file) : this.#file)
  }

  /** The config file's config, as last loaded. */
  get file(): Config {
    return this.#file
  }

  /**
   * Applies a change of the servers discovery found for `pool` as the API adds and removes servers:
   * `expand` gives those that `joined`, which take requests at once, and still those `leaving`,
   * which drain in every worker until none has a request in flight to them or the drain deadline
   * passes; then `forget()` drops them from `expand` and they leave every worker.
   */
  discovered(pool: string, joined: readonly string[], leaving: readonly string[], forget: () => void): Promise<void> {
    return this.#serial(async () => {
      await this.#apply()
      if (leaving.length > 0) {
        await this.#drainUntilEmpty(pool, leaving, this.#deps.discoveryDrainMs ?? 30_000)
        forget()
        for (const address of leaving) this.#overlay.enable(pool, address)
        await this.#apply()
        this.#shareDrains()
      }
      this.#log('discovery', { op: 'discovered', pool, joined, left: leaving })
    })
  }

  /**
   * Drains `addresses` of `pool` in every worker and waits until none has a request in flight to
   * them or `deadlineMs` passes; resolves with whether they emptied in time.
   */
  async #drainUntilEmpty(pool: string, addresses: readonly string[], deadlineMs: number): Promise<boolean> {
    for (const address of addresses) this.#overlay.drain(pool, address)
    this.#shareDrains()
    const end = performance.now() + deadlineMs
    for (;;) {
      const p = (await this.state()).pools.find((c) => c.name === pool)
      if (!p?.servers.some((s) => addresses.includes(s.address) && s.in_flight > 0)) return true
      if (performance.now() >= end) return false
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** The running config (secrets masked), its version, when loaded, and what differs from the file. */
  config() {
    return {
      version: this.#version,
      portico_version: this.#deps.version,
      loaded_at: this.#loadedAt.toISOString(),
      file: this.#deps.file ?? null,
      changes: this.#overlay.changes(this.#file),
      last_reload_error: this.#lastReloadError ?? null,
      config: masked(this.effective),
    }
  }

  /** The live state of the instance, summed over the workers. */
  async state() {
    const workers = await this.#fleet.ask({ op: 'snapshot' })
    const group = await groupView(this.#deps.group)
    return { version: this.#version, ...instanceView(this.effective, this.#fleet.urls, workers), group }
  }

  /** One server's state, summed over the workers; 404 when the pool has no such server. */
  async server(pool: string, address: string): Promise<ServerView> {
    const p: PoolView | undefined = (await this.state()).pools.find((c) => c.name === pool)
    const s = p?.servers.find((c) => c.address === address)
    if (!s) throw new AdminError(404, `pool "${pool}" has no server "${address}"`)
    return s
  }

  /** Stops new requests to a server in every worker; those in flight, WebSockets included, finish. */
  drain(who: string, pool: string, address: string): Promise<ServerView> {
    return this.#serial(async () => {
      this.#known(pool, address)
      this.#overlay.drain(pool, address)
      this.#shareDrains()
      this.#log(who, { op: 'drain', pool, server: address })
      this.#deps.group?.publish({ kind: 'drain', pool, server: address, drained: true })
      return this.server(pool, address)
    })
  }

  /** Ends a drain: the server takes requests again in every worker. */
  enable(who: string, pool: string, address: string): Promise<ServerView> {
    return this.#serial(async () => {
      this.#known(pool, address)
      this.#overlay.enable(pool, address)
      this.#shareDrains()
      this.#log(who, { op: 'enable', pool, server: address })
      this.#deps.group?.publish({ kind: 'drain', pool, server: address, drained: false })
      return this.server(pool, address)
    })
  }

  /** Sets a server's weight (0 to 1000) in every worker; its connections and counters stay. */
  setWeight(who: string, pool: string, address: string, weight: unknown): Promise<ServerView> {
    return this.#serial(async () => {
      checkWeight(weight)
      const before = this.#known(pool, address).weight
      this.#overlay.setWeight(pool, address, weight as number)
      await this.#apply()
      this.#log(who, { op: 'weight', pool, server: address, from: before, to: weight })
      this.#deps.group?.publish({ kind: 'weight', pool, server: address, weight: weight as number })
      return this.server(pool, address)
    })
  }

  /** Adds a server to a pool in every worker. */
  addServer(who: string, pool: string, address: unknown, weight: unknown = 1): Promise<ServerView> {
    return this.#serial(async () => {
      if (typeof address !== 'string' || splitAddress(address) === undefined)
        throw new AdminError(400, 'address must be "host:port"')
      checkWeight(weight)
      const servers = this.effective.pools[pool]?.servers
      if (!servers) throw new AdminError(404, `no pool "${pool}"`)
      if (servers.some((s) => entryOf(s).address === address))
        throw new AdminError(409, `pool "${pool}" already has server "${address}"`)
      this.#overlay.add(pool, address, weight as number)
      await this.#apply()
      this.#log(who, { op: 'add', pool, server: address, weight })
      this.#deps.group?.publish({ kind: 'add', pool, server: address, weight: weight as number })
      return this.server(pool, address)
    })
  }

  /**
   * Drains a server, waits until nothing is in flight to it in any worker or `deadlineMs` passes,
   * then takes it out of the pool everywhere. Resolves with whether it emptied in time.
   */
  removeServer(who: string, pool: string, address: string, deadlineMs: number): Promise<{ drained: boolean }> {
    return this.#serial(async () => {
      this.#known(pool, address)
      if (this.effective.pools[pool]!.servers.length === 1)
        throw new AdminError(409, `server "${address}" is the last of pool "${pool}"`)
      // The drain is in place once the call returns: the group hears of it while it empties.
      const emptied = this.#drainUntilEmpty(pool, [address], deadlineMs)
      this.#deps.group?.publish({ kind: 'drain', pool, server: address, drained: true })
      const drained = await emptied
      this.#overlay.remove(pool, address)
      await this.#apply()
      this.#shareDrains()
      this.#log(who, { op: 'remove', pool, server: address, drained })
      this.#deps.group?.publish({ kind: 'remove', pool, server: address })
      return { drained }
    })
  }

  /**
   * Reloads the config file, whole: an invalid one leaves the running config and is returned with
   * its errors. The API's config changes are forgotten (and returned as `undone`); drains stay.
   * With `dryRun`, only checks the file and says what a reload would undo.
   */
  reloadFromFile(who: string, dryRun = false): Promise<ReloadResult> {
    return this.#serial(async () => {
      const started = performance.now()
      const ms = () => Math.round(performance.now() - started)
      const file = this.#deps.file
      if (!file) throw new AdminError(409, 'no config file to reload: Portico runs its demo')
      let next: Config
      try {
        next = await this.#deps.load(file)
      } catch (err) {
        const errors = err instanceof ConfigError ? err.problems.map(formatProblem) : [(err as Error).message]
        if (!dryRun) this.#refused(file, who, errors)
        return { ok: false, undone: [], errors, ms: ms() }
      }
      const undone = this.#overlay.changes(next).filter((c) => c.change !== 'draining')
      if (dryRun) return { ok: true, undone, ms: ms() }
      const previous = this.#file
      this.#file = next
      this.#overlay.forgetConfigChanges(next)
      try {
        await this.#apply()
      } catch (err) {
        this.#file = previous
        const errors = [(err as Error).message]
        this.#refused(file, who, errors)
        return { ok: false, undone: [], errors, ms: ms() }
      }
      this.#reloads.applied++
      countReload(true)
      this.#lastReloadError = undefined
      this.#loadedAt = new Date()
      // The admin listener and its tokens are bound and read once, at start.
      if (JSON.stringify(previous.admin) !== JSON.stringify(next.admin))
        this.#deps.events.warn('changes that take effect only on restart', { keys: ['admin'] })
      this.#deps.events.info('config reloaded', { file, by: who, undone, ms: ms() })
      return { ok: true, undone, ms: ms() }
    })
  }

  /** Purges cached responses in every worker (`purge.ts` says which). */
  purge(who: string, input: PurgeInput) {
    const { routes, rule } = purgeOn(this.effective, input)
    // The routes' caches watch these keys in every worker; each purge is a new value (src/cache/route-cache.ts).
    for (const name of routes) this.#fleet.share(`cache-purge/${name}`, { rule, id: `admin-${++purges}` })
    this.#log(who, { op: 'purge', routes, rule })
    return { routes, rule }
  }

  /** Checks a config sent as YAML or JSON text, without applying it: its errors, or none. */
  async validate(text: string, check: (text: string) => Promise<Config>): Promise<{ ok: boolean; errors: string[] }> {
    try {
      await check(text)
      return { ok: true, errors: [] }
    } catch (err) {
      if (err instanceof ConfigError) return { ok: false, errors: err.problems.map(formatProblem) }
      throw err
    }
  }

  /** The server as the running config has it; 404 when there is none. */
  #known(pool: string, address: string) {
    const servers = this.effective.pools[pool]?.servers
    if (!servers) throw new AdminError(404, `no pool "${pool}"`)
    const s = servers.map(entryOf).find((c) => c.address === address)
    if (!s) throw new AdminError(404, `pool "${pool}" has no server "${address}"`)
    return s
  }

  /** Counts and logs a reload refused, and keeps its errors for `config()`; the running config stays. */
  #refused(file: string, who: string, errors: readonly string[]): void {
    this.#reloads.refused++
    countReload(false)
    this.#lastReloadError = { at: new Date().toISOString(), errors }
    this.#deps.events.error('reload refused, the running config stays', { file, by: who, errors })
  }

  async #apply(): Promise<void> {
    await this.#fleet.reload(this.effective)
    this.#version++
  }

  #shareDrains(): void {
    this.#fleet.share(drainedKey, this.#overlay.drained)
  }

  #log(who: string, change: Record<string, unknown>): void {
    this.#deps.events.info('admin change', { by: who, ...change })
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run)
    this.#queue = next.catch(() => {})
    return next
  }
}

let purges = 0

/** Throws the API's 400 unless `weight` is an integer from 0 to 1000. */
function checkWeight(weight: unknown): asserts weight is number {
  if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 1000)
    throw new AdminError(400, 'weight must be an integer from 0 to 1000')
}
