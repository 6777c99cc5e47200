import type { Config } from '../config/schema.ts'
import { AdminError } from './admin-error.ts'
import type { Control } from './control.ts'
import { addDashboard } from './dashboard/routes.ts'
import { openapi } from './openapi.ts'
import { AdminRoutes } from './routes.ts'

const server = '/pools/{pool}/servers/{server}'

/** Default time a removed server has to finish what is in flight before it goes anyway. */
const defaultRemoveDeadlineMs = 30_000

/**
 * The admin API's calls, each answering as `openapi.ts` describes it (a contract test checks
 * every one). `check` validates config text without applying it.
 */
export function apiRoutes(control: Control, check: (text: string) => Promise<Config>): AdminRoutes {
  const routes = addDashboard(new AdminRoutes(), control)
  return addInstanceChanges(addServerChanges(addReads(routes, control), control), control, check)
}

/** The calls that read: the OpenAPI document, the config, the live state, one server. */
function addReads(routes: AdminRoutes, control: Control): AdminRoutes {
  return routes
    .add({ method: 'GET', path: '/openapi.json', open: true, handler: () => ok(openapi) })
    .add({ method: 'GET', path: '/config', handler: () => ok(control.config()) })
    .add({ method: 'GET', path: '/state', handler: async () => ok(await control.state()) })
    .add({ method: 'GET', path: '/pools', handler: async () => ok((await control.state()).pools) })
    .add({
      method: 'GET',
      path: server,
      handler: async ({ params }) => ok(await control.server(params.pool!, params.server!)),
    })
}

/** The calls that change a pool's servers: add, remove, drain, enable, weight. */
function addServerChanges(routes: AdminRoutes, control: Control): AdminRoutes {
  return routes
    .add({
      method: 'POST',
      path: '/pools/{pool}/servers',
      handler: async ({ params, body, who }) => {
        const input = json(body) as { address?: unknown; weight?: unknown }
        return { status: 201, body: await control.addServer(who, params.pool!, input.address, input.weight ?? 1) }
      },
    })
    .add({
      method: 'DELETE',
      path: server,
      handler: async ({ params, query, who }) => {
        const deadline = Number(query.get('deadline_ms') ?? defaultRemoveDeadlineMs)
        if (!Number.isFinite(deadline) || deadline < 0)
          throw new AdminError(400, 'deadline_ms must be a number of milliseconds')
        return ok(await control.removeServer(who, params.pool!, params.server!, deadline))
      },
    })
    .add({
      method: 'POST',
      path: `${server}/drain`,
      handler: async ({ params, who }) => ok(await control.drain(who, params.pool!, params.server!)),
    })
    .add({
      method: 'POST',
      path: `${server}/enable`,
      handler: async ({ params, who }) => ok(await control.enable(who, params.pool!, params.server!)),
    })
    .add({
      method: 'PUT',
      path: `${server}/weight`,
      handler: async ({ params, body, who }) => {
        const input = json(body) as { weight?: unknown }
        return ok(await control.setWeight(who, params.pool!, params.server!, input.weight))
      },
    })
}

/** The calls on the whole instance: reload, purge the cache, validate a config. */
function addInstanceChanges(
  routes: AdminRoutes,
  control: Control,
  check: (text: string) => Promise<Config>,
): AdminRoutes {
  return routes
    .add({
      method: 'POST',
      path: '/reload',
      handler: async ({ query, who }) => {
        const result = await control.reloadFromFile(who, query.get('dry_run') === 'true')
        return { status: result.ok ? 200 : 422, body: result }
      },
    })
    .add({
      method: 'POST',
      path: '/cache/purge',
      handler: ({ body, who }) => ok(control.purge(who, json(body))),
    })
    .add({
      method: 'POST',
      path: '/validate',
      handler: async ({ body }) => {
        const result = await control.validate(body, check)
        return { status: result.ok ? 200 : 422, body: result }
      },
    })
}

function ok(body: unknown) {
  return { status: 200, body }
}

function json(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body || '{}')
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {}
  throw new AdminError(400, 'expected a JSON object in the body')
}
