import assert from 'node:assert/strict'
import { test } from 'node:test'
import { p2c } from '../../../src/upstream/balancers/p2c.ts'
import { testExchange, testServers } from '../../helpers/servers.ts'
import { contractOptions } from './contract.ts'

test('p2c sends most requests to the faster of two servers, and still some to the slow one', () => {
  const servers = testServers([1, 1])
  servers[0]!.state.latencyEwmaMs = 200
  servers[1]!.state.latencyEwmaMs = 10
  const b = p2c(servers, contractOptions())
  let slow = 0
  for (let i = 0; i < 1000; i++) if (b.pick(testExchange(), () => true) === servers[0]) slow++
  // Both draws land on the slow server about a quarter of the time: it is never starved.
  assert.ok(slow > 150 && slow < 350, `slow server got ${slow} of 1000`)
})

test('p2c prefers the less loaded server when latencies are equal', () => {
  const servers = testServers([1, 1])
  servers[0]!.state.inFlight = 10
  const b = p2c(servers, contractOptions())
  let busy = 0
  for (let i = 0; i < 1000; i++) if (b.pick(testExchange(), () => true) === servers[0]) busy++
  assert.ok(busy < 350, `busy server got ${busy} of 1000`)
})
