import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/config/load.ts'

const dir = new URL('../examples/', import.meta.url)
const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'))

test('examples/ holds configs to copy', () => {
  assert.ok(examples.includes('minimal.yaml'), 'examples/minimal.yaml exists')
})

for (const name of examples) {
  test(`examples/${name} is valid and explains itself in comments`, () => {
    const file = fileURLToPath(new URL(name, dir))
    // An empty environment: every ${VAR} in an example needs a default, so it runs as copied.
    assert.doesNotThrow(() => loadConfig(file, {}))
    assert.match(readFileSync(file, 'utf8'), /^# \S/, 'starts with a comment saying what it shows')
  })
}
