import assert from 'node:assert/strict'
import { test } from 'node:test'
import { routingPath } from '../../src/route/routing-path.ts'

test('routingPath resolves dot segments, merges slashes, decodes unreserved characters and drops the query', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/api/users?x=1', '/api/users'],
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/../../etc', '/etc'],
    ['//a///b/', '/a/b/'],
    ['/%61%2Dz%7e', '/a-z~'],
    ['/%2e%2e/admin', '/admin'],
    // Reserved characters stay encoded: "%2F" is data, not a separator.
    ['/a%2Fb/%3F', '/a%2Fb/%3F'],
    ['/%252e', '/%252e'],
  ]
  for (const [input, expected] of cases) assert.equal(routingPath(input), expected, input)
})

test('routingPath returns the very string when there is nothing to normalise', () => {
  const path = '/static/app.js'
  assert.equal(routingPath(path), path)
})
