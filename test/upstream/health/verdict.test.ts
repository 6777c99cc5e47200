import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkVerdict } from '../../../src/upstream/health/verdict.ts'
import { testServers } from '../../helpers/servers.ts'

test('a server of unknown health takes the first check result at once', () => {
  const [up, down] = testServers([1, 1])
  assert.equal(checkVerdict(up!.state, true, 3, 3), 'healthy')
  assert.equal(checkVerdict(down!.state, false, 3, 3), 'unhealthy')
})

test('a healthy server goes out after `fall` failures in a row, not before', () => {
  const state = testServers([1])[0]!.state
  state.health = 'healthy'
  assert.equal(checkVerdict(state, false, 2, 3), undefined)
  assert.equal(checkVerdict(state, false, 2, 3), undefined)
  assert.equal(checkVerdict(state, true, 2, 3), undefined, 'a pass breaks the streak')
  assert.equal(checkVerdict(state, false, 2, 3), undefined)
  assert.equal(checkVerdict(state, false, 2, 3), undefined)
  assert.equal(checkVerdict(state, false, 2, 3), 'unhealthy')
})

test('an unhealthy server comes back after `rise` passes in a row', () => {
  const state = testServers([1])[0]!.state
  state.health = 'unhealthy'
  assert.equal(checkVerdict(state, true, 2, 3), undefined)
  assert.equal(checkVerdict(state, false, 2, 3), undefined)
  assert.equal(checkVerdict(state, true, 2, 3), undefined)
  assert.equal(checkVerdict(state, true, 2, 3), 'healthy')
})
