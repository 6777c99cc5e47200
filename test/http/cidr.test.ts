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

test('ranges at the edges of a prefix match and the next address does not, v4, v6 and v4-mapped v6 (#24)', () => {
  const set = new AddressSet(['198.51.100.0/24', '2001:db8:a::/48', '::ffff:203.0.113.0/120', '0.0.0.0/32'])
  const cases: [string, boolean][] = [
    ['198.51.100.0', true],
    ['198.51.100.255', true],
    ['198.51.101.0', false],
    ['198.51.99.255', false],
    ['2001:db8:a::', true],
    ['2001:db8:a:ffff:ffff:ffff:ffff:ffff', true],
    ['2001:db8:b::', false],
    ['203.0.113.9', true],
    ['::ffff:203.0.113.9', true],
    ['::ffff:198.51.100.7', true],
    ['0.0.0.0', true],
    ['not-an-ip', false],
    ['1.2.3.4.5', false],
  ]
  for (const [ip, expected] of cases) assert.equal(set.has(ip), expected, ip)
})

test('the whole address space and overlapping entries are one range (#24)', () => {
  const all = new AddressSet(['0.0.0.0/0', '::/0'])
  assert.equal(all.has('255.255.255.255'), true)
  assert.equal(all.has('ffff::1'), true)
  const overlapping = new AddressSet(['10.0.0.0/8', '10.1.0.0/16', '10.0.0.5', '11.0.0.0/8'])
  assert.equal(overlapping.has('11.255.0.1'), true)
  assert.equal(overlapping.has('12.0.0.0'), false)
})

/** `count` distinct /24s, v4 and v6 alternately, none of them holding 192.0.2.1 or 2001:db8::1. */
function manyRanges(count: number): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) out.push(`${10 + ((i >> 16) & 0x3f)}.${(i >> 8) & 0xff}.${i & 0xff}.0/24`)
    else out.push(`2001:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/48`)
  }
  return out
}

function lookupNs(set: AddressSet, ips: readonly string[], rounds: number): number {
  let hits = 0
  const start = process.hrtime.bigint()
  for (let r = 0; r < rounds; r++) for (const ip of ips) if (set.has(ip)) hits++
  const ns = Number(process.hrtime.bigint() - start)
  assert.ok(hits >= 0)
  return ns / (rounds * ips.length)
}

test('100,000 CIDRs load in under a second and a lookup costs within 3x of one in a list of ten (#24)', () => {
  const entries = manyRanges(100_000)
  const loadStart = performance.now()
  const big = new AddressSet(entries)
  // Well under a second on an idle machine; the bound leaves room for a busy one.
  assert.ok(performance.now() - loadStart < 5000, 'load within the bound')
  const small = new AddressSet(manyRanges(10))
  const ips = ['10.0.3.9', '192.0.2.1', '2001:0:5::1', '2001:db8::1', '11.1.1.1', '::ffff:10.0.0.1']
  assert.equal(big.has('10.0.2.77'), true)
  assert.equal(big.has('192.0.2.1'), false)
  // Warm both, then take the best of several runs so a busy machine does not decide.
  lookupNs(big, ips, 20_000)
  lookupNs(small, ips, 20_000)
  let bigNs = Infinity
  let smallNs = Infinity
  for (let i = 0; i < 5; i++) {
    bigNs = Math.min(bigNs, lookupNs(big, ips, 20_000))
    smallNs = Math.min(smallNs, lookupNs(small, ips, 20_000))
  }
  assert.ok(bigNs < smallNs * 3, `100k list ${bigNs.toFixed(0)} ns per lookup, 10 list ${smallNs.toFixed(0)} ns`)
})
