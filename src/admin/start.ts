import { readFileSync } from 'node:fs'
import type { Config } from '../config/schema.ts'
import type { RedisLinks } from '../shared-state/redis/link.ts'
import { apiRoutes } from './api.ts'
import { checkConfigText } from './check-text.ts'
import { Control, type ControlDeps, type Fleet } from './control.ts'
import { joinGroup } from './group.ts'
import type { AdminRoutes } from './routes.ts'
import { startAdminServer } from './server.ts'
import { loadTokens } from './tokens.ts'
import { watchConfigFile } from './watch.ts'

/** The admin side of a running instance: its control, and the API listener when `admin` is set. */
export interface Admin {
  readonly control: Control
  /** The admin listener's URL; undefined when `admin` is not set. */
  readonly url: string | undefined
  /** The API's route table, where other features add their calls (`GET /metrics`). */
  readonly routes: AdminRoutes
  close(): Promise<void>
}

/**
 * Makes the control of a running instance (every reload goes through it, SIGHUP's too) and, when
 * the config has an `admin` block, starts the admin listener and the config file watcher. Rejects
 * when a token cannot be read or the address cannot be bound: Portico then does not start.
 */
export async function startAdmin(
  config: Config,
  fleet: Fleet,
  deps: Omit<ControlDeps, 'version' | 'group'>,
  links?: RedisLinks,
): Promise<Admin> {
  const group = joinGroup(config, deps.events, links)
  const control = new Control(fleet, config, { ...deps, version: packageVersion(), group })
  const routes = apiRoutes(control, checkConfigText)
  const settings = config.admin
  if (!settings) return { control, routes, url: undefined, close: async () => group.close() }
  let server: Awaited<ReturnType<typeof startAdminServer>>
  try {
    server = await startAdminServer(settings, loadTokens(settings), routes, deps.events)
  } catch (err) {
    group.close()
    throw err
  }
  const file = deps.file
  const unwatch =
    settings.watch_config && file
      ? watchConfigFile(file, settings.watch_debounce, () => void control.reloadFromFile('file watch'))
      : () => {}
  return {
    control,
    routes,
    url: server.url,
    close: async () => {
      unwatch()
      group.close()
      await server.close()
    },
  }
}

/** The package version, for the API's `portico_version`. */
function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url)
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
}
