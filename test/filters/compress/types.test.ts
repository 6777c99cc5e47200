import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultTypes } from '../../../src/filters/compress/schema.ts'
import { compressTypes } from '../../../src/filters/compress/types.ts'

const matches = compressTypes(defaultTypes)

const cases: [contentType: string, compressed: boolean][] = [
  ['text/html', true],
  ['text/html; charset=utf-8', true],
  ['TEXT/CSS', true],
  ['text/event-stream', true],
  ['application/json', true],
  ['application/problem+json', true],
  ['application/ld+json; charset=utf-8', true],
  ['application/javascript', true],
  ['application/xml', true],
  ['application/atom+xml', true],
  ['image/svg+xml', true],
  ['application/wasm', true],
  ['image/png', false],
  ['application/octet-stream', false],
  ['application/zip', false],
  ['video/mp4', false],
  ['image/json', false],
  ['textual/plain', false],
  ['', false],
]

for (const [type, compressed] of cases) {
  test(`the default content types ${compressed ? 'include' : 'exclude'} ${JSON.stringify(type)}`, () => {
    assert.equal(matches(type), compressed)
  })
}

test('configured content types replace the defaults', () => {
  const only = compressTypes(['application/vnd.custom', 'font/*'])
  assert.equal(only('application/vnd.custom'), true)
  assert.equal(only('font/woff'), true)
  assert.equal(only('text/html'), false)
})
