import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parseConfig } from '../../src/config/load.ts'
import { ConfigError } from '../../src/config/problem.ts'

const dir = new URL('./cases/', import.meta.url)
const marker = '# ---- expect\n'

/** The environment every case sees, so `${…}` cases do not depend on the machine. */
const env = { LISTEN_ADDRESS: '127.0.0.1:9090', PORT: '8081', BACKEND: 'nowhere', EMPTY: '' }

/**
 * Each case is YAML, then a `# ---- expect` line, then `# ok` or the exact error text, each line
 * commented so the file stays YAML. Errors name the case's file name as the config file.
 */
for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
  const [yaml, expected] = readFileSync(new URL(name, dir), 'utf8').split(marker)
  const title = yaml!.split('\n')[0]!.replace(/^#\s*/, '')
  test(`${name}: ${title}`, () => {
    assert.ok(expected !== undefined, `${name} has no "${marker.trim()}" line`)
    const want = expected
      .trimEnd()
      .split('\n')
      .map((line) => line.replace(/^# ?/, ''))
      .join('\n')
    let got = 'ok'
    try {
      parseConfig(yaml!, name, env)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      got = err.message
    }
    assert.equal(got, want)
  })
}
