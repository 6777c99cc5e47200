import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ServerState } from '../../src/upstream/server.ts'
import type { ServerConnections } from '../../src/upstream/transport.ts'

const state = () => {
  const none = {} as ServerConnections
  return new ServerState(none, () => none)
}

/** Ends attempts on `s` in turn, each `true` for a drop, with `s.inFlight` counted as the pool would. */
function end(s: ServerState, drops: boolean[]): boolean[] {
  return drops.map((dropped) => {
    const wentDown = s.attemptEnded(dropped)
    s.inFlight--
    return wentDown
  })
}

test('a server that drops all of its requests in flight went down with all but the first (#21)', () => {
  const s = state()
  s.inFlight = 4
  assert.deepEqual(end(s, [true, true, true, true]), [false, true, true, true])
})

test('a server that drops one request and answers the others in flight went down with none (#21)', () => {
  const s = state()
  s.inFlight = 4
  assert.deepEqual(end(s, [true, false, false, false]), [false, false, false, false])
  // A later drop starts again: it is charged.
  s.inFlight = 1
  assert.deepEqual(end(s, [true]), [false])
})

test('requests sent to a server after it dropped its only one are charged anew when dropped (#21)', () => {
  const s = state()
  s.inFlight = 1
  assert.deepEqual(end(s, [true]), [false])
  s.inFlight = 3
  assert.deepEqual(end(s, [true, true, true]), [false, true, true])
})
