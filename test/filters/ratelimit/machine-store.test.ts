import assert from 'node:assert/strict'
import test from 'node:test'
import { MachineRates, type RateMessage, RatesPrimary } from '../../../src/filters/ratelimit/machine-store.ts'

const params = { intervalMs: 100, toleranceMs: 200 }

test('workers asking the primary share one count, and the decisions of one turn travel in one message', async () => {
  let now = 5000
  const primary = new RatesPrimary(() => now)
  const sent: RateMessage[] = []
  const workers = [new MachineRates(), new MachineRates()]
  for (const w of workers) {
    w.join((message) => {
      sent.push(message)
      // The primary answers on a later turn, as over IPC.
      setImmediate(() => w.receive(primary.answer(message)!))
    })
  }
  const decisions = await Promise.all([0, 1, 0, 1, 0].map((i) => workers[i]!.take('k', params)))
  // Worker 0's batch of three reaches the primary first and takes the whole burst.
  assert.deepEqual(
    decisions.map((d) => d.allowed),
    [true, false, true, false, true],
  )
  assert.equal(sent.length, 2)
  now += 100
  assert.equal((await workers[1]!.take('k', params)).allowed, true)
})

test('a process alone keeps the machine count itself', () => {
  const alone = new MachineRates()
  const seen = Array.from({ length: 4 }, () => (alone.take('k', params) as { allowed: boolean }).allowed)
  assert.deepEqual(seen, [true, true, true, false])
})
