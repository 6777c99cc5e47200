// The OpenAPI 3.1 description of the admin API, served at /openapi.json. test/admin/contract.test.ts
// checks every handler's answers against the schemas here: change one, change the other.

import { dashboardPaths } from './dashboard/openapi-paths.ts'
import { error, int, json, obj, ref, schemas, str } from './openapi-schemas.ts'

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
    schemas,
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
    '/explain': {
      post: {
        summary:
          'Which listener, route (and for each earlier route the first condition that did not hold), request phases, pool and server a request would take under the running config. Nothing is sent.',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: obj(
                { method: str, url: str, headers: { type: 'object', additionalProperties: str }, from: str },
                ['url'],
              ),
            },
          },
        },
        responses: {
          200: json(ref('Explanation'), 'The way the request would take.'),
          400: error('Bad URL, method, headers or address.'),
          401: unauthorized,
        },
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
