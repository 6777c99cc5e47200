import assert from 'node:assert/strict'
import { test } from 'node:test'
import { directives, seconds } from '../../src/cache/directives.ts'

test('Cache-Control directives are read by name, with quoted arguments holding commas, first value kept', () => {
  const d = directives('Max-Age=60, no-cache="set-cookie, x-a", public, max-age=5')
  assert.equal(d.get('max-age'), '60')
  assert.equal(d.get('no-cache'), 'set-cookie, x-a')
  assert.equal(d.get('public'), true)
  assert.equal(seconds(d, 'max-age'), 60)
})

test('a delta-seconds that is not a number counts as absent', () => {
  assert.equal(seconds(directives('max-age=soon'), 'max-age'), undefined)
  assert.equal(seconds(directives('max-age'), 'max-age'), undefined)
})
