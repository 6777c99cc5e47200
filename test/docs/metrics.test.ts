import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { families } from '../../src/metrics/families.ts'

const page = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')
const rows = new Map(
  [...page.matchAll(/^\| `(portico_\w+)` *\| (\w+) *\| ([^|]*)\|/gm)].map((m) => [
    m[1]!,
    { type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) },
  ]),
)

test('docs/metrics.md lists every metric Portico exports, with its type and labels', () => {
  for (const f of families) assert.deepEqual(rows.get(f.name), { type: f.type, labels: [...f.labels] }, f.name)
})

test('docs/metrics.md lists no metric Portico does not export', () => {
  const names = new Set(families.map((f) => f.name))
  assert.deepEqual(
    [...rows.keys()].filter((name) => !names.has(name)),
    [],
  )
})
