import assert from 'node:assert/strict'
import test from 'node:test'
import { addressPrefix } from '../../../src/filters/ratelimit/key.ts'

test('a client prefix cuts an address to its network', () => {
  const cases: [string, number, number, string][] = [
    ['203.0.113.77', 24, 128, '203.0.113.0/24'],
    ['203.0.113.77', 16, 128, '203.0.0.0/16'],
    ['203.0.113.77', 0, 128, '0.0.0.0/0'],
    ['2001:db8:1:2:3:4:5:6', 32, 64, '2001:db8:1:2:0:0:0:0/64'],
    ['2001:db8::1', 32, 48, '2001:db8:0:0:0:0:0:0/48'],
    ['2001:db8:abcd:ef01::1', 32, 40, '2001:db8:ab00:0:0:0:0:0/40'],
  ]
  for (const [address, bits4, bits6, want] of cases) assert.equal(addressPrefix(address, bits4, bits6), want, address)
})
