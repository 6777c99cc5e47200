// The schemas the admin API's OpenAPI document (openapi.ts) names under components, and the
// helpers both files write schemas with. test/admin/contract.test.ts checks every handler's
// answers against them: change one, change the other.

/** A reference to the schema `name` of `components.schemas`. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
/** A JSON answer of `schema`. */
export const json = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
/** An error answer: `{ error }`. */
export const error = (description: string) => json(ref('Error'), description)
export const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] })
/** An object of `properties`, all required unless `required` names fewer. */
export const obj = (properties: Record<string, object>, required = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
})
export const str = { type: 'string' }
export const int = { type: 'integer' }
export const num = { type: 'number' }
export const bool = { type: 'boolean' }

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

const explanation = obj({
  request: obj({ method: str, url: str, client: str, country: str }),
  listener: nullable(obj({ index: int, address: str, tls: bool, port_matches: bool })),
  path: nullable(str),
  passed: {
    type: 'array',
    items: obj({ index: int, name: str, failed: obj({ condition: str, expected: {} }) }),
  },
  route: nullable(obj({ index: int, name: str })),
  phases: { type: 'array', items: str },
  cache: bool,
  action: { type: 'string', enum: ['pool', 'split', 'redirect', 'respond', 'static', 'no_route', 'bad_request'] },
  pool: nullable(str),
  server: nullable(str),
  backend_path: nullable(str),
})

/** The schemas of `components.schemas`, by the name `ref()` points at. */
export const schemas = {
  Error: obj({ error: str }),
  Change: change,
  Server: server,
  Pool: pool,
  State: state,
  Config: config,
  Reload: reload,
  Validate: obj({ ok: bool, errors: { type: 'array', items: str } }),
  Removed: obj({ drained: bool }),
  Explanation: explanation,
} as const
