import { ConfigError, formatProblem } from '../config/problem.ts'
import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import { AdminError } from './admin-error.ts'
import { type AgentRequest, drainedKey } from './agent.ts'
import { applyDiscovered } from './discovered-servers.ts'
import { type AdminGroup, groupView } from './group.ts'
import { applyFromGroup } from './group-changes.ts'
import { instanceView } from './instance-view.ts'
import type { PoolView, ServerView, WorkerView } from './live-state.ts'
import { LoadedFile, type ReloadResult } from './loaded-file.ts'
import { masked } from './mask.ts'
import { Overlay } from './overlay.ts'
import { type PurgeInput, purgeOn } from './purge.ts'
import { type ChangeTarget, ServerChanges } from './server-changes.ts'

export type { ReloadResult } from './loaded-file.ts'

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
 * each is logged with the name of the token that made it. The server changes, the reload and
 * discovery's changes are made by their own modules; the control orders them and keeps the version.
 */
export class Control {
  readonly #fleet: Fleet
  readonly #deps: ControlDeps
  readonly #overlay = new Overlay()
  readonly #file: LoadedFile
  readonly #target: ChangeTarget
  readonly #changes: ServerChanges
  #version = 1
  #queue: Promise<unknown> = Promise.resolve()

  constructor(fleet: Fleet, file: Config, deps: ControlDeps) {
    this.#fleet = fleet
    this.#deps = deps
    const apply = () => this.#apply()
    const overlay = this.#overlay
    const events = deps.events
    this.#file = new LoadedFile(file, { path: deps.file, load: deps.load, overlay, apply, events })
    this.#target = {
      overlay,
      effective: () => this.effective,
      group: deps.group,
      apply,
      shareDrains: () => this.#fleet.share(drainedKey, this.#overlay.drained),
      log: (who, change) => deps.events.info('admin change', { by: who, ...change }),
      pools: async () => (await this.state()).pools,
      server: (pool, address) => this.server(pool, address),
    }
    this.#changes = new ServerChanges(this.#target)
    // Changes other instances make apply here as this API's own would, in turn with them.
    const target = { overlay, running: () => this.effective, events }
    const update = (config: boolean) => (config ? apply() : Promise.resolve()).then(() => this.#target.shareDrains())
    deps.group?.follow((change, version) => this.#serial(() => applyFromGroup({ ...target, update }, change, version)))
  }

  /** Reloads from the file applied and refused since start, whatever asked for them (for the metrics). */
  get reloads(): { readonly applied: number; readonly refused: number } {
    return this.#file.counts
  }

  /** The config running now: the file's with the API's changes. */
  get effective(): Config {
    const file = this.#file.config
    return this.#overlay.apply(this.#deps.expand ? this.#deps.expand(file) : file)
  }

  /** The config file's config, as last loaded. */
  get file(): Config {
    return this.#file.config
  }

  /**
   * Applies a change of the servers discovery found for `pool` as the API adds and removes servers:
   * `expand` gives those that `joined`, which take requests at once, and still those `leaving`,
   * which drain in every worker until none has a request in flight to them or the drain deadline
   * passes; then `forget()` drops them from `expand` and they leave every worker.
   */
  discovered(pool: string, joined: readonly string[], leaving: readonly string[], forget: () => void): Promise<void> {
    const drainMs = this.#deps.discoveryDrainMs ?? 30_000
    return this.#serial(() => applyDiscovered(this.#target, this.#changes, { pool, joined, leaving, forget }, drainMs))
  }

  /** The running config (secrets masked), its version, when loaded, and what differs from the file. */
  config() {
    return {
      version: this.#version,
      portico_version: this.#deps.version,
      loaded_at: this.#file.loadedAt.toISOString(),
      file: this.#deps.file ?? null,
      changes: this.#overlay.changes(this.#file.config),
      last_reload_error: this.#file.lastError ?? null,
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
    return this.#serial(() => this.#changes.drain(who, pool, address))
  }

  /** Ends a drain: the server takes requests again in every worker. */
  enable(who: string, pool: string, address: string): Promise<ServerView> {
    return this.#serial(() => this.#changes.enable(who, pool, address))
  }

  /** Sets a server's weight (0 to 1000) in every worker; its connections and counters stay. */
  setWeight(who: string, pool: string, address: string, weight: unknown): Promise<ServerView> {
    return this.#serial(() => this.#changes.setWeight(who, pool, address, weight))
  }

  /** Adds a server to a pool in every worker. */
  addServer(who: string, pool: string, address: unknown, weight: unknown = 1): Promise<ServerView> {
    return this.#serial(() => this.#changes.addServer(who, pool, address, weight))
  }

  /**
   * Drains a server, waits until nothing is in flight to it in any worker or `deadlineMs` passes,
   * then takes it out of the pool everywhere. Resolves with whether it emptied in time.
   */
  removeServer(who: string, pool: string, address: string, deadlineMs: number): Promise<{ drained: boolean }> {
    return this.#serial(() => this.#changes.removeServer(who, pool, address, deadlineMs))
  }

  /**
   * Reloads the config file, whole: an invalid one leaves the running config and is returned with
   * its errors. The API's config changes are forgotten (and returned as `undone`); drains stay.
   * With `dryRun`, only checks the file and says what a reload would undo.
   */
  reloadFromFile(who: string, dryRun = false): Promise<ReloadResult> {
    return this.#serial(() => this.#file.reload(who, dryRun))
  }

  /** Purges cached responses in every worker (`purge.ts` says which). */
  purge(who: string, input: PurgeInput) {
    const { routes, rule } = purgeOn(this.effective, input)
    // The routes' caches watch these keys in every worker; each purge is a new value (src/cache/route-cache.ts).
    for (const name of routes) this.#fleet.share(`cache-purge/${name}`, { rule, id: `admin-${++purges}` })
    this.#target.log(who, { op: 'purge', routes, rule })
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

  async #apply(): Promise<void> {
    await this.#fleet.reload(this.effective)
    this.#version++
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run)
    this.#queue = next.catch(() => {})
    return next
  }
}

let purges = 0
