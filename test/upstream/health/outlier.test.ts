import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OutlierDetector, type OutlierSettings } from '../../../src/upstream/health/outlier.ts'
import { testServers } from '../../helpers/servers.ts'

const settings: OutlierSettings = {
  consecutive: 3,
  counts: new Set(['connect', 'reset', 'timeout']),
  baseEjectionMs: 1000,
  maxEjectionMs: 5000,
  maxEjectedShare: 0.5,
}

const refused = { ok: false, code: 'backend_refused' } as const

test('outlier detection ejects after the configured failures in a row', () => {
  const state = testServers([1])[0]!.state
  const d = new OutlierDetector(settings)
  assert.equal(d.record(state, refused, 0), 0)
  assert.equal(d.record(state, { ok: false, code: 'backend_timeout' }, 0), 0)
  assert.equal(d.record(state, { ok: false, code: 'backend_reset' }, 0), 1000)
})

test('a success, even a 5xx answer when 5xx is not counted, breaks the streak', () => {
  const state = testServers([1])[0]!.state
  const d = new OutlierDetector(settings)
  d.record(state, refused, 0)
  d.record(state, refused, 0)
  d.record(state, { ok: true, status: 503 }, 0)
  assert.equal(d.record(state, refused, 0), 0)
  assert.equal(d.record(state, refused, 0), 0)
  assert.equal(d.record(state, refused, 0), 1000)
})

test('a client abort neither counts nor breaks the streak', () => {
  const state = testServers([1])[0]!.state
  const d = new OutlierDetector(settings)
  d.record(state, refused, 0)
  d.record(state, refused, 0)
  assert.equal(d.record(state, { ok: false, code: 'client_aborted' }, 0), 0)
  assert.equal(d.record(state, refused, 0), 1000)
})

test('5xx answers count when configured', () => {
  const state = testServers([1])[0]!.state
  const d = new OutlierDetector({ ...settings, counts: new Set(['5xx']) })
  d.record(state, { ok: true, status: 500 }, 0)
  d.record(state, { ok: true, status: 502 }, 0)
  assert.equal(d.record(state, { ok: true, status: 503 }, 0), 1000)
})

test('ejections in a row last longer each time, up to the maximum, and are forgotten after a good spell', () => {
  const state = testServers([1])[0]!.state
  const d = new OutlierDetector(settings)
  const durations: number[] = []
  for (let round = 0; round < 5; round++) {
    let ms = 0
    for (let i = 0; i < 3; i++) ms = d.record(state, refused, 0)
    durations.push(ms)
    state.ejections++
    state.returnedAt = 0
    state.consecutiveFailures = 0
  }
  assert.deepEqual(durations, [1000, 2000, 4000, 5000, 5000])
  d.record(state, { ok: true, status: 200 }, 4999)
  assert.equal(state.ejections, 5)
  d.record(state, { ok: true, status: 200 }, 5000)
  assert.equal(state.ejections, 0)
})

test('consecutive_failures 0 turns outlier detection off', () => {
  const state = testServers([1])[0]!.state
  const d = new OutlierDetector({ ...settings, consecutive: 0 })
  for (let i = 0; i < 100; i++) assert.equal(d.record(state, refused, 0), 0)
})
