import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, type TestContext, test } from 'node:test'
import { spawnPortico, writeConfig } from './helpers/spawn.ts'

/** Runs `portico ARGS` to the end: its exit code and everything it printed. */
async function portico(t: TestContext, args: string[]): Promise<{ code: number | null; output: string }> {
  const p = await spawnPortico(t, args)
  const code = await p.exited
  return { code, output: p.output() }
}

const valid = {
  listeners: [{ address: '127.0.0.1:0' }, { address: '127.0.0.1:0' }],
  pools: { web: { servers: ['127.0.0.1:3000', '127.0.0.1:3001'] }, api: { servers: ['127.0.0.1:4000'] } },
  routes: [{ pool: 'web' }],
}

// Each test runs its own processes, so they can run side by side.
describe('the portico command', { concurrency: true }, () => {
  test('--help prints the commands and exit codes and exits 0', async (t) => {
    const { code, output } = await portico(t, ['--help'])
    assert.equal(code, 0)
    for (const text of ['portico run', 'portico validate [-c FILE]', 'portico schema', 'Exit codes']) {
      assert.ok(output.includes(text), `help mentions ${text}:\n${output}`)
    }
  })

  test('--version prints the package version and exits 0', async (t) => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    const { code, output } = await portico(t, ['--version'])
    assert.equal(code, 0)
    assert.equal(output, `portico ${pkg.version}\n`)
  })

  test('an unknown command, flag or extra argument is a usage error with exit 2', async (t) => {
    const cases = [
      { args: ['frobnicate'], says: 'unknown command "frobnicate"' },
      { args: ['validate', '--confg', 'x.yaml'], says: "'--confg'" },
      { args: ['run', 'portico.yaml'], says: 'unexpected argument "portico.yaml"' },
      { args: [], says: 'Usage:' },
    ]
    const results = await Promise.all(cases.map(({ args }) => portico(t, args)))
    for (const [i, { args, says }] of cases.entries()) {
      assert.equal(results[i]!.code, 2, `portico ${args.join(' ')}`)
      assert.ok(results[i]!.output.includes(says), `portico ${args.join(' ')} says ${says}:\n${results[i]!.output}`)
    }
  })

  test('validate without -c is a usage error with exit 2', async (t) => {
    const { code, output } = await portico(t, ['validate'])
    assert.equal(code, 2)
    assert.match(output, /validate needs -c FILE/)
  })

  test('validate prints a one-line summary of a valid config and exits 0', async (t) => {
    const file = writeConfig(valid)
    const { code, output } = await portico(t, ['validate', '-c', file])
    assert.equal(code, 0)
    assert.equal(output, `${file}: ok, 2 listeners, 1 route, 2 pools, 3 servers\n`)
  })

  test('validate prints every error with file:line:column and exits 1', async (t) => {
    const file = writeConfig(
      [
        'listeners:',
        '  - address: 127.0.0.1:0',
        'pools:',
        '  web:',
        '    servrs: [127.0.0.1:3000]',
        'routes:',
        '  - pool: wbe',
        '',
      ].join('\n'),
    )
    const { code, output } = await portico(t, ['validate', '-c', file])
    assert.equal(code, 1)
    assert.equal(
      output,
      [
        `${file}:4:3 pools.web.servers: expected at least one server, or discover`,
        `${file}:5:5 pools.web.servrs: unknown key "servrs"; did you mean "servers"?`,
        `${file}:7:11 routes[0].pool: unknown pool "wbe"; pools are "web"; did you mean "web"?`,
        '',
      ].join('\n'),
    )
  })

  test('validate of a file that does not exist exits 1 and says so', async (t) => {
    const { code, output } = await portico(t, ['validate', '-c', 'no-such-portico.yaml'])
    assert.equal(code, 1)
    assert.equal(output, 'no-such-portico.yaml:1:1 cannot read config: file not found\n')
  })

  test('run with an invalid config exits 1 before listening', async (t) => {
    const file = writeConfig({ ...valid, routes: [{ pool: 'nope' }] })
    const { code, output } = await portico(t, ['run', '-c', file])
    assert.equal(code, 1)
    assert.match(output, /routes\[0\]\.pool: unknown pool "nope"/)
    assert.doesNotMatch(output, /listening/)
  })

  test('run exits 3 when its address is already in use', async (t) => {
    const taken = createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    t.after(() => taken.close())
    const { port } = taken.address() as { port: number }
    const file = writeConfig({ ...valid, listeners: [{ address: `127.0.0.1:${port}` }] })
    const { code, output } = await portico(t, ['run', '-c', file])
    assert.equal(code, 3)
    assert.match(output, /could not start: .*EADDRINUSE/)
  })

  test('schema prints a JSON Schema in which every key has a description', async (t) => {
    const { code, output } = await portico(t, ['schema'])
    assert.equal(code, 0)
    const schema = JSON.parse(output) as JsonSchema
    assert.match(schema.$schema ?? '', /json-schema\.org/)
    assert.deepEqual(Object.keys(schema.properties ?? {}).slice(0, 3), ['listeners', 'pools', 'routes'])
    const undocumented: string[] = []
    const walk = (node: JsonSchema | undefined, path: string): void => {
      if (!node) return
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) undocumented.push(`${path}.${key}`)
        walk(child, `${path}.${key}`)
      }
      walk(node.items, `${path}[]`)
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}.*`)
      for (const branch of node.anyOf ?? []) walk(branch, path)
    }
    walk(schema, '')
    assert.deepEqual(undocumented, [])
    assert.match(schema.properties?.pools?.description ?? '', /pool/i)
  })
})

interface JsonSchema {
  $schema?: string
  description?: string
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  additionalProperties?: JsonSchema | boolean
  anyOf?: JsonSchema[]
}
