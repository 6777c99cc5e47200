import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Report, Sample } from '../../src/metrics/sample.ts'
import { Totals } from '../../src/metrics/totals.ts'

const requests = (n: number): Sample => ['portico_requests_total', { route: 'a' }, n]
const report = (counters: Sample[], gauges: Sample[] = []): Report => ({ counters, gauges, process: [] })

function counted(totals: Totals, name: string): number {
  let total = 0
  for (const list of totals.json())
    for (const m of list) if (m.name === name) for (const v of m.values) total += v.value
  return total
}

test('each report adds only what its process counted since its last one', () => {
  const totals = new Totals()
  totals.add('1', '0', report([requests(5)]))
  totals.add('2', '1', report([requests(3)]))
  totals.add('1', '0', report([requests(7)]))
  assert.equal(counted(totals, 'portico_requests_total'), 10)
})

test('what a worker counted stays after it exits, and its replacement counts on top', () => {
  const totals = new Totals()
  totals.add('1', '0', report([requests(5)], [['portico_pool_in_flight', { pool: 'web' }, 2]]))
  totals.leave('1')
  assert.equal(counted(totals, 'portico_requests_total'), 5)
  assert.equal(counted(totals, 'portico_pool_in_flight'), 0)
  totals.add('3', '0', report([requests(1)]))
  assert.equal(counted(totals, 'portico_requests_total'), 6)
})

test('a count lower than the last one is a new thing counted from zero, not a decrease', () => {
  const totals = new Totals()
  totals.add('1', '0', report([['portico_server_ejections_total', { pool: 'p', server: 's' }, 4]]))
  totals.add('1', '0', report([['portico_server_ejections_total', { pool: 'p', server: 's' }, 1]]))
  assert.equal(counted(totals, 'portico_server_ejections_total'), 5)
})

test('gauges are each process’s latest value', () => {
  const totals = new Totals()
  totals.add('1', '0', report([], [['portico_pool_queued', { pool: 'web' }, 4]]))
  totals.add('2', '1', report([], [['portico_pool_queued', { pool: 'web' }, 1]]))
  totals.add('1', '0', report([], [['portico_pool_queued', { pool: 'web' }, 2]]))
  assert.equal(counted(totals, 'portico_pool_queued'), 3)
})
