import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hash } from '../../../src/upstream/balancers/hash.ts'
import { testExchange, testServers } from '../../helpers/servers.ts'
import { contractOptions } from './contract.ts'

test('hash remaps about 1/N of 10,000 keys when one of N servers is removed, and only its keys', () => {
  const servers = testServers([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
  const b = hash(servers, contractOptions())
  const keys = Array.from({ length: 10_000 }, (_, i) => testExchange({ headers: { 'x-user': `user-${i}` } }))
  const before = keys.map((x) => b.pick(x, () => true)!)
  const removed = servers[3]!
  b.update!(servers.filter((s) => s !== removed))
  let moved = 0
  keys.forEach((x, i) => {
    const now = b.pick(x, () => true)!
    if (now === before[i]) return
    moved++
    assert.equal(before[i], removed, `key ${i} moved although its server stayed`)
  })
  const share = moved / keys.length
  assert.ok(share > 0.06 && share < 0.14, `${(share * 100).toFixed(1)}% of keys moved, expected about 10%`)
})

test('hash sends the same key to the same server, and an unusable server’s keys to the next one', () => {
  const servers = testServers([1, 1, 1])
  const b = hash(servers, contractOptions())
  const x = testExchange({ headers: { 'x-user': 'alice' } })
  const first = b.pick(x, () => true)!
  for (let i = 0; i < 20; i++)
    assert.equal(
      b.pick(x, () => true),
      first,
    )
  const other = b.pick(x, (s) => s !== first)!
  assert.notEqual(other, first)
  assert.equal(
    b.pick(x, (s) => s !== first),
    other,
  )
})

test('hash spreads requests without the key instead of piling them on one server', () => {
  const servers = testServers([1, 1, 1])
  const b = hash(servers, contractOptions())
  const seen = new Set()
  for (let i = 0; i < 100; i++) seen.add(b.pick(testExchange(), () => true))
  assert.equal(seen.size, 3)
})
