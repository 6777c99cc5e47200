import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { HashKeySource } from '../../../src/upstream/balancers/balancer.ts'
import { hashKey } from '../../../src/upstream/balancers/hash-key.ts'
import { testExchange } from '../../helpers/servers.ts'

const cases: [string, HashKeySource, Parameters<typeof testExchange>[0], string | undefined][] = [
  ['a header', { from: 'header', name: 'x-user' }, { headers: { 'x-user': 'alice' } }, 'alice'],
  ['a missing header', { from: 'header', name: 'x-user' }, {}, undefined],
  ['a cookie among others', { from: 'cookie', name: 'sid' }, { headers: { cookie: 'a=1; sid=42; b=2' } }, '42'],
  [
    'a cookie whose name is a prefix of another',
    { from: 'cookie', name: 'sid' },
    { headers: { cookie: 'sidx=1' } },
    undefined,
  ],
  ['a query argument', { from: 'query', name: 'u' }, { path: '/x?a=1&u=bob&c=3' }, 'bob'],
  ['a query argument at the end', { from: 'query', name: 'u' }, { path: '/x?u=bob' }, 'bob'],
  ['no query', { from: 'query', name: 'u' }, { path: '/x' }, undefined],
  ['the path without its query', { from: 'path', name: '' }, { path: '/a/b?c=d' }, '/a/b'],
]

for (const [what, source, fields, want] of cases) {
  test(`hashKey takes ${what}`, () => {
    assert.equal(hashKey(testExchange(fields), source), want)
  })
}
