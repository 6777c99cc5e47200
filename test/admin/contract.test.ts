import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { apiRoutes } from '../../src/admin/api.ts'
import type { Control } from '../../src/admin/control.ts'
import { openapi } from '../../src/admin/openapi.ts'
import { adminConfig, startAdminPortico } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { groupJoined, uniquePrefix } from '../helpers/redis.ts'

type Schema = Record<string, unknown>
const doc = openapi as unknown as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>
  components: { schemas: Record<string, Schema> }
}

/** The schema with every `$ref` to a component replaced by the component. */
function inline(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(inline)
  if (schema === null || typeof schema !== 'object') return schema
  const ref = (schema as { $ref?: string }).$ref
  if (ref) return inline(doc.components.schemas[ref.split('/').pop()!])
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]))
}

/** Asserts that `body` is what the document says `method path` answers with `status`. */
function conforms(method: string, path: string, status: number, body: unknown): void {
  const operation = doc.paths[path]?.[method.toLowerCase()]
  assert.ok(operation, `${method} ${path} is in the document`)
  const response = operation.responses[String(status)]
  assert.ok(response, `${method} ${path} documents status ${status}`)
  const schema = response.content?.['application/json']?.schema
  assert.ok(schema, `${method} ${path} ${status} has a JSON schema`)
  const result = z.fromJSONSchema(inline(schema) as Parameters<typeof z.fromJSONSchema>[0]).safeParse(body)
  assert.ok(result.success, `${method} ${path} ${status}: ${result.error?.message}\n${JSON.stringify(body)}`)
}

test('the OpenAPI document describes every route of the admin API, and nothing else', () => {
  const routes = apiRoutes({} as Control, async () => ({}) as never).all.map((r) => `${r.method} ${r.path}`)
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  )
  assert.deepEqual([...routes].sort(), [...documented].sort())
})

test("every admin API call's answers match the OpenAPI document, with two workers", { timeout: 90_000 }, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const { call, admin } = await startAdminPortico(t, adminConfig([a.address, b.address]))
  const server = `/pools/{pool}/servers/{server}`
  const at = (address: string) => `/pools/web/servers/${address}`
  const cases: [method: string, documented: string, path: string, body?: unknown][] = [
    ['GET', '/config', '/config'],
    ['GET', '/state', '/state'],
    ['GET', '/pools', '/pools'],
    ['GET', server, at(a.address)],
    ['GET', server, at('127.0.0.1:1')],
    ['POST', `${server}/drain`, `${at(b.address)}/drain`],
    ['POST', `${server}/drain`, '/pools/nope/servers/127.0.0.1:1/drain'],
    ['POST', `${server}/enable`, `${at(b.address)}/enable`],
    ['PUT', `${server}/weight`, `${at(b.address)}/weight`, { weight: 3 }],
    ['PUT', `${server}/weight`, `${at(b.address)}/weight`, { weight: -1 }],
    ['POST', '/pools/{pool}/servers', '/pools/web/servers', { address: '127.0.0.1:1', weight: 2 }],
    ['POST', '/pools/{pool}/servers', '/pools/web/servers', { address: 'not an address' }],
    ['POST', '/pools/{pool}/servers', '/pools/web/servers', { address: '127.0.0.1:1' }],
    ['DELETE', server, `${at('127.0.0.1:1')}?deadline_ms=1000`],
    ['DELETE', server, `${at(a.address)}?deadline_ms=x`],
    ['POST', '/cache/purge', '/cache/purge', { tags: ['x'] }],
    ['POST', '/cache/purge', '/cache/purge', { tags: 'x' }],
    ['POST', '/reload', '/reload?dry_run=true'],
    ['POST', '/reload', '/reload'],
    ['POST', '/validate', '/validate', 'listeners: []\n'],
    [
      'POST',
      '/validate',
      '/validate',
      'listeners: [{address: "127.0.0.1:0"}]\npools: {w: {servers: ["127.0.0.1:1"]}}\nroutes: [{pool: w}]\n',
    ],
    ['POST', '/explain', '/explain', { method: 'GET', url: 'http://example.com/x', from: '10.1.2.3' }],
    ['POST', '/explain', '/explain', { url: 'not a url' }],
    ['GET', '/openapi.json', '/openapi.json'],
  ]
  const statuses = new Set<string>()
  for (const [method, documented, path, body] of cases) {
    const reply = await call(method, path, body)
    conforms(method, documented, reply.status, reply.body)
    statuses.add(`${method} ${documented} ${reply.status}`)
  }
  // The calls above reach the answers that matter, refusals included.
  for (const expected of [
    'POST /validate 422',
    'PUT /pools/{pool}/servers/{server}/weight 400',
    'GET /pools/{pool}/servers/{server} 404',
    'POST /explain 200',
    'POST /explain 400',
  ])
    assert.ok(statuses.has(expected), expected)
  const unauthorized = await fetch(`${admin}/state`)
  conforms('GET', '/state', unauthorized.status, await unauthorized.json())
})

test('GET /state of an instance in a group, with its instances and their processes, matches the document', {
  timeout: 60_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const prefix = uniquePrefix('contract-group')
  const redis = { key_prefix: prefix, timeout: '5s', share: ['changes'] }
  const { call } = await startAdminPortico(t, adminConfig([a.address], 2, { redis }))
  await groupJoined(prefix, 2)
  const state = await call('GET', '/state')
  assert.equal(state.body.group.instances[0].processes.length, 2)
  conforms('GET', '/state', state.status, state.body)
})
