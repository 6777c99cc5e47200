import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AddressSet } from '../../src/http/cidr.ts'

test('an address set matches single addresses and CIDR ranges, v4 and v6', () => {
  const set = new AddressSet(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'])
  const cases: [string, boolean][] = [
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.168.1.7', true],
    ['192.168.1.8', false],
    ['2001:db8::42', true],
    ['2001:db9::1', false],
    ['::1', true],
    ['::2', false],
  ]
  for (const [ip, expected] of cases) assert.equal(set.has(ip), expected, ip)
})

test('an IPv4-mapped IPv6 client address counts as its IPv4 address', () => {
  const set = new AddressSet(['127.0.0.0/8'])
  assert.equal(set.has('::ffff:127.0.0.1'), true)
  assert.equal(set.has('::ffff:10.0.0.1'), false)
})

test('an empty address set trusts nobody', () => {
  const set = new AddressSet([])
  assert.equal(set.has('127.0.0.1'), false)
  assert.equal(set.has('::1'), false)
  assert.equal(set.has(''), false)
})
