import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normaliseTarget, type PathRules, samePath, startsWithSegment } from '../../src/route/routing-path.ts'

// The defaults of a listener's `paths` block.
const defaults: PathRules = { escapedSlashes: 'reject', parameters: 'strip', ignoreCase: false }

test('normaliseTarget resolves dot segments, merges slashes, decodes unreserved characters and keeps the query', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/api/users?x=1', '/api/users?x=1'],
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/../../etc', '/etc'],
    ['//a///b/', '/a/b/'],
    ['/%61%2Dz%7e', '/a-z~'],
    ['/%2e%2e/admin', '/admin'],
    ['/x/%2E%2E/%2e/admin', '/admin'],
    // Other escapes stay escaped, in upper case: "%3F" is data, not a query.
    ['/a%3fb/%c3%a9', '/a%3Fb/%C3%A9'],
    ['/%252e', '/%252e'],
    // The query is the client's own: nothing in it is touched.
    ['/a/../b?x=/../%2f;#', '/b?x=/../%2f;#'],
  ]
  for (const [input, expected] of cases) assert.equal(normaliseTarget(input, defaults), expected, input)
})

test('normaliseTarget refuses what backends read as another path, by the listener rules (#21)', () => {
  const decode: PathRules = { ...defaults, escapedSlashes: 'decode' }
  const keep: PathRules = { escapedSlashes: 'keep', parameters: 'keep', ignoreCase: false }
  const reject: PathRules = { ...defaults, parameters: 'reject' }
  // [target, defaults, escaped slashes decoded, everything kept, parameters rejected]; undefined is a 400.
  const cases: [string, ...(string | undefined)[]][] = [
    ['/admin%2fsecret', undefined, '/admin/secret', '/admin%2Fsecret', undefined],
    ['/x/..%2fadmin', undefined, '/admin', '/x/..%2Fadmin', undefined],
    ['/x/..%5cadmin', undefined, '/admin', '/x/..%5Cadmin', undefined],
    ['/x/..%5Cadmin', undefined, '/admin', '/x/..%5Cadmin', undefined],
    ['/x\\..\\admin', undefined, '/admin', '/x\\..\\admin', undefined],
    ['/admin;x', '/admin', '/admin', '/admin;x', undefined],
    ['/x/..;/admin', '/admin', '/admin', '/x/..;/admin', undefined],
    ['/a;jsessionid=1/b;v=2?q;r', '/a/b?q;r', '/a/b?q;r', '/a;jsessionid=1/b;v=2?q;r', undefined],
    ['/x/.;/admin', '/x/admin', '/x/admin', '/x/.;/admin', undefined],
    ['/admin%3bx', '/admin%3Bx', '/admin%3Bx', '/admin%3Bx', '/admin%3Bx'],
    ['/ADMIN', '/ADMIN', '/ADMIN', '/ADMIN', '/ADMIN'],
    // Never valid in a request target, whatever the rules.
    ['/admin#x', undefined, undefined, undefined, undefined],
    ['/a%zz', undefined, undefined, undefined, undefined],
    ['/a%2', undefined, undefined, undefined, undefined],
    ['/a%', undefined, undefined, undefined, undefined],
  ]
  for (const [input, ...expected] of cases) {
    const got = [defaults, decode, keep, reject].map((rules) => normaliseTarget(input, rules))
    assert.deepEqual(got, expected, input)
  }
})

test('normaliseTarget returns the very string when there is nothing to normalise', () => {
  for (const target of ['/static/app.js', '/a/b?c=%2f&d=..', '/a.b/c.d/']) {
    assert.equal(normaliseTarget(target, defaults), target)
  }
})

test('path comparisons fold ASCII case only when asked, and prefixes hold on whole segments', () => {
  assert.equal(startsWithSegment('/ADMIN/x', '/admin', true), true)
  assert.equal(startsWithSegment('/ADMIN/x', '/admin', false), false)
  assert.equal(startsWithSegment('/Admin', '/admin', true), true)
  assert.equal(startsWithSegment('/adminx', '/admin', true), false)
  assert.equal(startsWithSegment('/adm', '/admin', true), false)
  assert.equal(samePath('/Admin', '/admin', true), true)
  assert.equal(samePath('/Admin', '/admin', false), false)
  assert.equal(samePath('/admin/', '/admin', true), false)
})
