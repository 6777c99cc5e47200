import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isValidRequestId, newRequestId } from '../../src/http/request-id.ts'

test('generated request ids are unique and valid', () => {
  const ids = new Set<string>()
  for (let i = 0; i < 1000; i++) ids.add(newRequestId())
  assert.equal(ids.size, 1000)
  for (const id of ids) assert.equal(isValidRequestId(id), true, id)
})

test('a client request id is kept only when short and free of characters that break logs', () => {
  const cases: [string, boolean][] = [
    ['abc-123', true],
    ['0f8fad5b-d9cb-469f-a165-70867728950e', true],
    ['trace:span/1=a+b@c', true],
    ['', false],
    ['a'.repeat(200), true],
    ['a'.repeat(201), false],
    ['has space', false],
    ['quote"', false],
    ['line\nbreak', false],
    ['semi;colon', false],
  ]
  for (const [id, expected] of cases) assert.equal(isValidRequestId(id), expected, JSON.stringify(id))
})
