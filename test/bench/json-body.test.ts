import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { jsonBody } from '../../bench/json-body.ts'

test('the JSON body is valid JSON of at least the size asked, the same on every call', () => {
  const body = jsonBody(100 * 1024)
  assert.ok(body.length >= 100 * 1024 && body.length < 101 * 1024, `${body.length} bytes`)
  assert.ok(Array.isArray(JSON.parse(body.toString())))
  assert.deepEqual(jsonBody(100 * 1024), body)
})

test('the JSON body compresses like an API answer, not like one repeated byte', () => {
  const body = jsonBody(100 * 1024)
  const ratio = body.length / gzipSync(body, { level: 5 }).length
  assert.ok(ratio > 3 && ratio < 12, `gzip ratio ${ratio.toFixed(1)}`)
})
