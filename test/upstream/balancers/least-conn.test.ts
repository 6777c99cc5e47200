import assert from 'node:assert/strict'
import { test } from 'node:test'
import { leastConn } from '../../../src/upstream/balancers/least-conn.ts'
import { testExchange, testServers } from '../../helpers/servers.ts'

test('least_conn steers away from a server with more requests in flight', () => {
  const servers = testServers([1, 1, 1])
  servers[0]!.state.inFlight = 5
  servers[1]!.state.inFlight = 1
  const b = leastConn(servers)
  assert.equal(
    b.pick(testExchange(), () => true),
    servers[2],
  )
})

test('least_conn weighs in-flight requests by weight', () => {
  const servers = testServers([4, 1])
  servers[0]!.state.inFlight = 3
  servers[1]!.state.inFlight = 1
  const b = leastConn(servers)
  // a: (3+1)/4 = 1, b: (1+1)/1 = 2.
  assert.equal(
    b.pick(testExchange(), () => true),
    servers[0],
  )
})

test('least_conn takes idle servers in turn rather than always the first', () => {
  const servers = testServers([1, 1, 1])
  const b = leastConn(servers)
  const seen = new Set(Array.from({ length: 3 }, () => b.pick(testExchange(), () => true)))
  assert.equal(seen.size, 3)
})
