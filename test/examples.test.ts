import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { loadConfig } from '../src/config/load.ts'
import type { ConfigInput } from '../src/config/schema.ts'
import { startBackend } from './helpers/backend.ts'
import { get } from './helpers/http.ts'
import { startPortico } from './helpers/portico.ts'

const dir = new URL('../examples/', import.meta.url)
const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'))

test('examples/ holds configs to copy', () => {
  assert.ok(examples.includes('minimal.yaml'), 'examples/minimal.yaml exists')
})

// tls.yaml needs certificate files; test/listen/schema.test.ts makes them and validates it.
const needFiles = new Set(['tls.yaml'])

for (const name of examples.filter((n) => !needFiles.has(n))) {
  test(`examples/${name} is valid and explains itself in comments`, () => {
    const file = fileURLToPath(new URL(name, dir))
    // An empty environment: every ${VAR} in an example needs a default, so it runs as copied.
    assert.doesNotThrow(() => loadConfig(file, {}))
    assert.match(readFileSync(file, 'utf8'), /^# \S/, 'starts with a comment saying what it shows')
  })
}

test('examples/hosts-and-paths.yaml routes as its comments say', async (t) => {
  const example = parse(readFileSync(new URL('hosts-and-paths.yaml', dir), 'utf8')) as ConfigInput
  // The example's own routes, with a test backend named after each pool in place of its servers.
  const pools: ConfigInput['pools'] = {}
  for (const [name, pool] of Object.entries(example.pools)) {
    pools[name] = { ...pool, servers: [(await startBackend(t, name)).address] }
  }
  const proxy = await startPortico(t, { pools, routes: example.routes })
  const cases = [
    { host: 'api.example.com', path: '/anything', pool: 'api' },
    { host: 'other.test', path: '/static/app.js', pool: 'static' },
    { host: 'other.test', path: '/static', pool: 'static' },
    { host: 'example.com', path: '/', pool: 'www' },
    { host: 'shop.example.com', path: '/cart', pool: 'www' },
    { host: 'a.b.example.com', path: '/', pool: 'www' },
    { host: 'example.com', path: '/static/logo.png', pool: 'static' },
    { host: 'other.test', path: '/staticky', pool: undefined },
  ]
  for (const { host, path, pool } of cases) {
    const reply = await get(`${proxy.url}${path}`, { host })
    assert.equal(reply.headers['x-backend'], pool, `${host}${path}`)
    if (pool === undefined) assert.equal(reply.status, 404)
  }
})
