import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ServerState } from '../../src/upstream/server.ts'
import type { ServerConnections } from '../../src/upstream/transport.ts'

const state = () => {
  const none = {} as ServerConnections
  return new ServerState(none, () => none)
}

/**
 * Ends attempts on `s` in turn at time `now`, each `[dropped, sentAt]`, with `s.inFlight` counted
 * down as the pool would; returns what attemptEnded said of each.
 */
function end(s: ServerState, now: number, attempts: [dropped: boolean, sentAt: number][]): boolean[] {
  return attempts.map(([dropped, sentAt]) => {
    const wentDown = s.attemptEnded(dropped, sentAt, now)
    s.inFlight--
    return wentDown
  })
}

test('a server that drops all of its requests in flight went down with all but the first (#21)', () => {
  const s = state()
  s.inFlight = 4
  assert.deepEqual(
    end(s, 10, [
      [true, 1],
      [true, 2],
      [true, 3],
      [true, 4],
    ]),
    [false, true, true, true],
  )
})

test('a server that drops one request and answers the others in flight went down with none (#21)', () => {
  const s = state()
  s.inFlight = 3
  assert.deepEqual(
    end(s, 10, [
      [true, 1],
      [false, 2],
      [false, 3],
    ]),
    [false, false, false],
  )
  // A later drop starts the count again: it is charged.
  s.inFlight = 1
  assert.deepEqual(end(s, 20, [[true, 15]]), [false])
})

test('requests sent to a server after it dropped one are not counted among those it went down with (#21)', () => {
  const s = state()
  s.inFlight = 2
  assert.deepEqual(end(s, 10, [[true, 1]]), [false])
  // Sent after the drop: a refused connect ends it, and the request held since before still counts.
  s.inFlight += 1
  assert.deepEqual(
    end(s, 11, [
      [false, 10.5],
      [true, 2],
    ]),
    [false, true],
  )
})
