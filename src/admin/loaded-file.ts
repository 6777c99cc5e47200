import { ConfigError, formatProblem } from '../config/problem.ts'
import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import { countReload } from '../metrics/exposition.ts'
import { AdminError } from './admin-error.ts'
import type { Change, Overlay } from './overlay.ts'

/** What a reload did, or would do (`dry_run`). */
export interface ReloadResult {
  readonly ok: boolean
  /** Changes made through the API that the reload undid (or would undo). */
  readonly undone: readonly Change[]
  readonly errors?: readonly string[]
  readonly ms: number
}

/** What a reload needs: the file, how to read it, the API's changes, how to apply a config. */
export interface ReloadDeps {
  /** The config file; undefined for the demo, which has none to reload. */
  readonly path: string | undefined
  /** Reads and validates a config file. */
  readonly load: (file: string) => Promise<Config>
  readonly overlay: Overlay
  /** Applies the effective config (the file's with the overlay) in every serving process. */
  readonly apply: () => Promise<void>
  readonly events: EventLog
}

/** The config file as last loaded, when, the last reload refused, and the reloads counted since start. */
export class LoadedFile {
  readonly #deps: ReloadDeps
  #config: Config
  #loadedAt = new Date()
  #lastError: { readonly at: string; readonly errors: readonly string[] } | undefined
  readonly #counts = { applied: 0, refused: 0 }

  constructor(config: Config, deps: ReloadDeps) {
    this.#config = config
    this.#deps = deps
  }

  get config(): Config {
    return this.#config
  }

  get loadedAt(): Date {
    return this.#loadedAt
  }

  get lastError(): { readonly at: string; readonly errors: readonly string[] } | undefined {
    return this.#lastError
  }

  /** Reloads applied and refused since start. */
  get counts(): { readonly applied: number; readonly refused: number } {
    return { ...this.#counts }
  }

  /**
   * Reloads the file, whole: an invalid one leaves the running config and is returned with its
   * errors. The API's config changes are forgotten (and returned as `undone`); drains stay.
   * With `dryRun`, only checks the file and says what a reload would undo.
   */
  async reload(who: string, dryRun: boolean): Promise<ReloadResult> {
    const started = performance.now()
    const ms = () => Math.round(performance.now() - started)
    const file = this.#deps.path
    if (!file) throw new AdminError(409, 'no config file to reload: Portico runs its demo')
    let next: Config
    try {
      next = await this.#deps.load(file)
    } catch (err) {
      const errors = err instanceof ConfigError ? err.problems.map(formatProblem) : [(err as Error).message]
      if (!dryRun) this.#refused(file, who, errors)
      return { ok: false, undone: [], errors, ms: ms() }
    }
    const undone = this.#deps.overlay.changes(next).filter((c) => c.change !== 'draining')
    if (dryRun) return { ok: true, undone, ms: ms() }
    const previous = this.#config
    this.#config = next
    this.#deps.overlay.forgetConfigChanges(next)
    try {
      await this.#deps.apply()
    } catch (err) {
      this.#config = previous
      const errors = [(err as Error).message]
      this.#refused(file, who, errors)
      return { ok: false, undone: [], errors, ms: ms() }
    }
    this.#applied(file, who, previous, undone, ms())
    return { ok: true, undone, ms: ms() }
  }

  /** Counts and logs a reload applied. */
  #applied(file: string, who: string, previous: Config, undone: readonly Change[], ms: number): void {
    this.#counts.applied++
    countReload(true)
    this.#lastError = undefined
    this.#loadedAt = new Date()
    // The admin listener and its tokens are bound and read once, at start.
    if (JSON.stringify(previous.admin) !== JSON.stringify(this.#config.admin))
      this.#deps.events.warn('changes that take effect only on restart', { keys: ['admin'] })
    this.#deps.events.info('config reloaded', { file, by: who, undone, ms })
  }

  /** Counts and logs a reload refused, and keeps its errors; the running config stays. */
  #refused(file: string, who: string, errors: readonly string[]): void {
    this.#counts.refused++
    countReload(false)
    this.#lastError = { at: new Date().toISOString(), errors }
    this.#deps.events.error('reload refused, the running config stays', { file, by: who, errors })
  }
}
