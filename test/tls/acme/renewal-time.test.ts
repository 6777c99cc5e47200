import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffMs, renewalTime, runAt } from '../../../src/tls/acme/renewal.ts'

const day = 86_400_000

test('a certificate is renewed once a third of its lifetime remains', () => {
  assert.equal(renewalTime({ notBefore: 0, notAfter: 90 * day }), 60 * day)
  assert.equal(renewalTime({ notBefore: 10 * day, notAfter: 16 * day }), 14 * day)
})

test('retries back off from a minute, doubling up to six hours, spread by half either way', () => {
  const low = () => 0
  const high = () => 0.999999
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffMs(n, () => 0.5)),
    [60_000, 120_000, 240_000, 480_000],
  )
  assert.equal(backoffMs(1, low), 30_000)
  assert.ok(backoffMs(1, high) <= 90_000)
  assert.equal(
    backoffMs(40, () => 0.5),
    6 * 3_600_000,
  )
})

test('runAt waits past the longest single timer node allows', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let ran = false
  runAt(Date.now() + 30 * day, () => {
    ran = true
  })
  t.mock.timers.tick(25 * day)
  assert.equal(ran, false)
  t.mock.timers.tick(5 * day)
  assert.equal(ran, true)
})
