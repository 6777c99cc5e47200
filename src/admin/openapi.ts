// The OpenAPI 3.1 description of the admin API, served at /openapi.json. test/admin/contract.test.ts
// checks every handler's answers against the schemas here: change one, change the other.

import { dashboardPaths } from './dashboard/openapi-paths.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } })
const error = (description: string) => json(ref('Error'), description)
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] })
const obj = (properties: Record<string, object>, required = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
})
const str = { type: 'string' }
const int = { type: 'integer' }
const num = { type: 'number' }
const bool = { type: 'boolean' }

const poolParam = { name: 'pool', in: 'path', required: true, schema: str }
const serverParam = {
  name: 'server',
  in: 'path',
  required: true,
  schema: str,
  description: 'The server\'s "host:port", URL-encoded when it has brackets.',
}
const unauthorized = error('No valid bearer token.')
const notFound = error('No such pool or server.')

const change = obj(
  {
    pool: str,
    server: str,
    change: { type: 'string', enum: ['added', 'removed', 'weight', 'draining'] },
    file: int,
    now: int,
  },
  ['pool', 'server', 'change'],
)

const server = obj({
  address: str,
  weight: int,
  backup: bool,
  max_conns: int,
  health: { type: 'string', enum: ['unknown', 'healthy', 'unhealthy'] },
  out: bool,
  reason: nullable(obj({ source: { type: 'string', enum: ['active', 'passive', 'admin'] }, detail: str, since: str })),
  in_flight: int,
  ejected: bool,
  ejections: int,
  draining: bool,
  empty: bool,
  connections: obj({ active: int, waiting: int }),
  latency_ewma_ms: num,
})

const pool = obj({
  name: str,
  balancer: str,
  in_flight: int,
  queued: int,
  servers: { type: 'array', items: ref('Server') },
})

const certificate = obj(
  { listener: str, file: str, names: { type: 'array', items: str }, not_after: str, days_left: int, error: str },
  ['listener', 'file', 'names', 'not_after', 'days_left'],
)

// The instances of the group (the `redis` section), each with its serving processes as they last told.
const group = obj({
  instances: {
    type: 'array',
    items: obj({
      instance: str,
      host: str,
      processes: {
        type: 'array',
        items: obj({ pid: int, version: str, started: str, in_flight: int, queued: int, seen: str }),
      },
    }),
  },
})

const state = obj({
  version: int,
  workers: { type: 'array', items: int },
  listeners: { type: 'array', items: obj({ address: str, url: nullable(str), tls: bool }) },
  routes: { type: 'array', items: obj({ index: int, name: str, match: { type: 'object' }, action: str }) },
  pools: { type: 'array', items: ref('Pool') },
  certificates: { type: 'array', items: certificate },
  group: nullable(group),
})

const config = obj({
  version: int,
  portico_version: str,
  loaded_at: str,
  file: nullable(str),
  changes: { type: 'array', items: ref('Change') },
  last_reload_error: nullable(obj({ at: str, errors: { type: 'array', items: str } })),
  config: { type: 'object' },
})

const reload = obj(
  { ok: bool, undone: { type: 'array', items: ref('Change') }, errors: { type: 'array', items: str }, ms: int },
  ['ok', 'undone', 'ms'],
)

const serverCall = (summary: string, extra: Record<string, object> = {}) => ({
  summary,
  parameters: [poolParam, serverParam],
  responses: {
    200: json(ref('Server'), 'The server after the change, summed over workers.'),
    401: unauthorized,
    404: notFound,
    ...extra,
  },
})

/** The admin API's OpenAPI 3.1 document. */
export const openapi = {
  openapi: '3.1.0',
  info: {
    title: 'Portico admin API',
    version: '1',
    description: 'Live state and changes of a running Portico, summed over its workers (docs/admin.md).',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: obj({ error: str }),
      Change: change,
      Server: server,
      Pool: pool,
      State: state,
      Config: config,
      Reload: reload,
      Validate: obj({ ok: bool, errors: { type: 'array', items: str } }),
      Removed: obj({ drained: bool }),
    },
  },
  security: [{ bearer: [] }],
  paths: {
    ...dashboardPaths,
    '/openapi.json': {
      get: { summary: 'This document.', security: [], responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1.') } },
    },
    '/config': {
      get: {
        summary: 'The running config (secrets masked), its version, load time, and changes not in the file.',
        responses: { 200: json(ref('Config'), 'The running config.'), 401: unauthorized },
      },
    },
    '/state': {
      get: {
        summary: 'Listeners, routes, pools with their servers, and certificates, summed over workers.',
        responses: { 200: json(ref('State'), 'The live state.'), 401: unauthorized },
      },
    },
    '/pools': {
      get: {
        summary: 'Pools and their servers, summed over workers.',
        responses: { 200: json({ type: 'array', items: ref('Pool') }, 'The pools.'), 401: unauthorized },
      },
    },
    '/pools/{pool}/servers': {
      post: {
        summary: 'Adds a server to a pool, in every worker.',
        parameters: [poolParam],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: obj({ address: str, weight: int }, ['address']) } },
        },
        responses: {
          201: json(ref('Server'), 'The server added.'),
          400: error('Bad address or weight.'),
          401: unauthorized,
          404: notFound,
          409: error('The pool has this server already.'),
        },
      },
    },
    '/pools/{pool}/servers/{server}': {
      get: serverCall('One server, summed over workers.'),
      delete: {
        summary: 'Drains the server, waits until it is empty or the deadline passes, then removes it.',
        parameters: [
          poolParam,
          serverParam,
          { name: 'deadline_ms', in: 'query', required: false, schema: int, description: 'Default 30000.' },
        ],
        responses: {
          200: json(ref('Removed'), 'Removed; `drained` says whether it emptied before the deadline.'),
          400: error('Bad deadline.'),
          401: unauthorized,
          404: notFound,
          409: error('The last server of its pool.'),
        },
      },
    },
    '/pools/{pool}/servers/{server}/drain': {
      post: serverCall(
        'No new requests to this server; those in flight and WebSockets finish. `empty` says when none is left.',
      ),
    },
    '/pools/{pool}/servers/{server}/enable': { post: serverCall('Ends a drain: the server takes requests again.') },
    '/pools/{pool}/servers/{server}/weight': {
      put: {
        ...serverCall("Sets the server's weight (0 to 1000).", { 400: error('Bad weight.') }),
        requestBody: { required: true, content: { 'application/json': { schema: obj({ weight: int }) } } },
      },
    },
    '/reload': {
      post: {
        summary: 'Reloads the config file; says which API changes it undid. `dry_run=true` only checks and says.',
        parameters: [
          { name: 'dry_run', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
        ],
        responses: {
          200: json(ref('Reload'), 'Reloaded (or would reload).'),
          401: unauthorized,
          409: error('No config file (the demo).'),
          422: json(ref('Reload'), 'The file is invalid; the running config stays.'),
        },
      },
    },
    '/cache/purge': {
      post: {
        summary:
          'Purges cached responses in every worker, on `route` or every caching route: by exact `urls` (as keyed, scheme://host/path?query), `prefixes` or `tags`; give one.',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: obj(
                {
                  route: str,
                  urls: { type: 'array', items: str },
                  prefixes: { type: 'array', items: str },
                  tags: { type: 'array', items: str },
                },
                [],
              ),
            },
          },
        },
        responses: {
          200: json(
            obj({
              routes: { type: 'array', items: str },
              rule: obj({
                kind: { type: 'string', enum: ['url', 'prefix', 'tag'] },
                values: { type: 'array', items: str },
              }),
            }),
            'Purged on these routes.',
          ),
          400: error('Not exactly one of urls, prefixes or tags.'),
          401: unauthorized,
          404: error('No such caching route.'),
        },
      },
    },
    '/validate': {
      post: {
        summary: 'Checks the config in the body (YAML or JSON) without applying it.',
        requestBody: { required: true, content: { 'application/yaml': { schema: str } } },
        responses: {
          200: json(ref('Validate'), 'Valid.'),
          401: unauthorized,
          422: json(ref('Validate'), 'Invalid, with every error.'),
        },
      },
    },
  },
} as const
