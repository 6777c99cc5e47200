import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { failures } from '../../src/errors.ts'

const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
// Table rows: | `code` | status | when it happens | retried |
const rows = [...page.matchAll(/^\|\s*`(\w+)`\s*\|([^|]+)\|[^|]+\|([^|]+)\|\s*$/gm)].map((m) => ({
  code: m[1]!,
  status: m[2]!.trim(),
  retry: m[3]!.trim(),
}))

test('docs/errors.md documents every failure code, and only codes that exist', () => {
  assert.deepEqual(rows.map((r) => r.code).sort(), Object.keys(failures).sort())
})

test('docs/errors.md gives each code the status and retry rule of src/errors.ts', () => {
  for (const { code, status, retry } of rows) {
    const failure = failures[code as keyof typeof failures]
    assert.equal(status, failure.status === 0 ? '—' : String(failure.status), `status of ${code}`)
    assert.equal(retry, failure.retry, `retry rule of ${code}`)
  }
})
