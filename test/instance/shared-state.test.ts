import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SharedState } from '../../src/instance/shared-state.ts'

test('a watcher sees the keys already set under its prefix, then each change, until it stops', () => {
  const state = new SharedState()
  state.set('health/web/a', { healthy: true })
  state.set('other', 1)
  const seen: [string, unknown][] = []
  const stop = state.watch('health/', (key, value) => seen.push([key, value]))
  state.set('health/web/a', { healthy: false })
  state.receive('health/web/b', { healthy: true })
  stop()
  state.set('health/web/a', { healthy: true })
  assert.deepEqual(seen, [
    ['health/web/a', { healthy: true }],
    ['health/web/a', { healthy: false }],
    ['health/web/b', { healthy: true }],
  ])
  assert.deepEqual(state.get('health/web/a'), { healthy: true })
})

test('a process is the leader until it joins a cluster as another worker; its own sets go to the primary', () => {
  const state = new SharedState()
  assert.equal(state.leader, true)
  const sent: [string, unknown][] = []
  state.join(false, (key, value) => sent.push([key, value]))
  assert.equal(state.leader, false)
  state.set('k', 1)
  state.receive('j', 2)
  assert.deepEqual(sent, [['k', 1]])
})
