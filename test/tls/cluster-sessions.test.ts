import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ClusterSessions, type SessionMessage, SessionsPrimary } from '../../src/tls/cluster-sessions.ts'

test('the primary answers a worker with a session another worker gave it, until it expires or is pushed out (#21)', () => {
  let now = 1_000
  const primary = new SessionsPrimary(() => now)
  const answers: (SessionMessage | undefined)[] = []
  // Two workers: `a` makes the sessions, `b` asks for them.
  const a = new ClusterSessions()
  a.join((m) => primary.answer(m))
  const b = new ClusterSessions()
  b.join((m) => answers.push(primary.answer(m)))
  const found: (string | null)[] = []
  const ask = (listener: string, id: string) =>
    b.get(listener, Buffer.from(id), (s) => found.push(s === null ? null : s.data.toString()))
  const answer = () => b.receive(answers.shift()!)

  a.put('127.0.0.1:443', Buffer.from('one'), Buffer.from('session one'), 2_000, 2)
  ask('127.0.0.1:443', 'one')
  answer()
  // Another listener's sessions are not this one's.
  ask('127.0.0.1:8443', 'one')
  answer()
  // At most `max` sessions per listener: the oldest goes first.
  a.put('127.0.0.1:443', Buffer.from('two'), Buffer.from('session two'), 2_000, 2)
  a.put('127.0.0.1:443', Buffer.from('three'), Buffer.from('session three'), 2_000, 2)
  ask('127.0.0.1:443', 'one')
  answer()
  ask('127.0.0.1:443', 'three')
  answer()
  now = 2_000
  ask('127.0.0.1:443', 'three')
  answer()
  assert.deepEqual(found, ['session one', null, null, 'session three', null])
})

test('a process that runs alone answers every ask for a session at once with none', () => {
  const alone = new ClusterSessions()
  let found: unknown = 'unanswered'
  alone.get('127.0.0.1:443', Buffer.from('one'), (s) => (found = s))
  assert.equal(found, null)
  assert.equal(alone.joined, false)
})
