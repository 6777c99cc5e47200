import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SlotBank } from '../../src/cluster/slot-bank.ts'
import type { Config } from '../../src/config/schema.ts'
import type { LeaseMessage } from '../../src/instance/slot-leases.ts'

/** A config with pool `web` of one server `s:1` with `max_conns`, as far as the bank reads it. */
const config = (maxConns: number) =>
  ({ pools: { web: { servers: [{ address: 's:1', max_conns: maxConns }, 'free:1'] } } }) as unknown as Config

/** A worker that keeps what the bank tells it: the slots it holds and the last demand level. */
function worker(index: number) {
  const seen: LeaseMessage[] = []
  return {
    index,
    seen,
    send: (m: LeaseMessage) => seen.push(m),
    get slots() {
      return seen.reduce((n, m) => n + (m.type === 'slots-grant' ? m.count : 0), 0)
    },
    get demand() {
      return seen.findLast((m) => m.type === 'slots-demand')?.level ?? 0
    },
  }
}

test('each worker starts with its share of max_conns, and the shares add up to it (#21)', () => {
  const bank = new SlotBank(config(5), 2)
  const [a, b] = [worker(0), worker(1)]
  bank.join(a)
  bank.join(b)
  assert.deepEqual([a.slots, b.slots], [3, 2])
})

test('a worker with requests waiting gets the slots another hands back, and the bank never lends more than max_conns (#21)', () => {
  const bank = new SlotBank(config(2), 2)
  const [a, b] = [worker(0), worker(1)]
  bank.join(a)
  bank.join(b)
  bank.receive(a, { type: 'slots-need', pool: 'web', waiting: 3 })
  assert.equal(a.slots, 1)
  assert.equal(b.demand, 1)
  // b was idle: it hands its slot back, and a gets it; nothing more is free.
  bank.receive(b, { type: 'slots-return', key: 'web/s:1', count: 1 })
  assert.deepEqual([a.slots, b.slots], [2, 1])
  bank.receive(a, { type: 'slots-need', pool: 'web', waiting: 2 })
  assert.equal(a.slots, 2)
  // Now b has a request waiting and holds nothing: every slot a frees goes back, to b.
  bank.receive(b, { type: 'slots-need', pool: 'web', waiting: 1 })
  assert.equal(a.demand, 2)
  bank.receive(a, { type: 'slots-return', key: 'web/s:1', count: 1 })
  const grants = b.seen.filter((m) => m.type === 'slots-grant')
  assert.equal(grants.at(-1)?.count, 1)
})

test('the slots of a worker that exits go to a waiting worker (#21)', () => {
  const bank = new SlotBank(config(1), 2)
  const [a, b] = [worker(0), worker(1)]
  bank.join(a)
  bank.join(b)
  assert.deepEqual([a.slots, b.slots], [1, 0])
  bank.receive(b, { type: 'slots-need', pool: 'web', waiting: 1 })
  assert.equal(b.slots, 0)
  bank.leave(a)
  assert.equal(b.slots, 1)
})

test('a reload that lowers max_conns lends nothing until workers have handed back the excess (#21)', () => {
  const bank = new SlotBank(config(4), 2)
  const [a, b] = [worker(0), worker(1)]
  bank.join(a)
  bank.join(b)
  bank.configure(config(2))
  assert.equal(a.demand, 1)
  bank.receive(b, { type: 'slots-need', pool: 'web', waiting: 1 })
  assert.equal(b.slots, 2)
  bank.receive(a, { type: 'slots-return', key: 'web/s:1', count: 2 })
  // a holds none now and b its 2: the new max_conns, all lent.
  assert.equal(b.slots, 2)
  bank.receive(b, { type: 'slots-return', key: 'web/s:1', count: 1 })
  assert.equal(b.slots, 3)
})
