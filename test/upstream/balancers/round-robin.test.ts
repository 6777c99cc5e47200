import assert from 'node:assert/strict'
import { test } from 'node:test'
import { roundRobin } from '../../../src/upstream/balancers/round-robin.ts'
import { testExchange, testServers } from '../../helpers/servers.ts'

test('round_robin interleaves weights 5,1,1 smoothly: a a b a c a a', () => {
  const servers = testServers([5, 1, 1])
  const b = roundRobin(servers)
  const x = testExchange()
  const seen = Array.from({ length: 14 }, () => b.pick(x, () => true)!.address[0]).join('')
  assert.equal(seen, 'aabacaaaabacaa')
})

test('round_robin scales a server down while slow start ramps it up', () => {
  const servers = testServers([1, 1])
  servers[1]!.state.ramp = 0.25
  const b = roundRobin(servers)
  const x = testExchange()
  let toB = 0
  for (let i = 0; i < 1000; i++) if (b.pick(x, () => true) === servers[1]) toB++
  assert.equal(toB, 200)
})
