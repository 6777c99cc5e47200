import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AddressSet } from '../../src/http/cidr.ts'
import { clientAddress } from '../../src/http/client-address.ts'

const trusted = new AddressSet(['10.0.0.0/8', '2001:db8::/32'])

test('clientAddress takes the rightmost hop that is not a trusted proxy', () => {
  const cases: [Record<string, string>, string, string][] = [
    [{}, '10.0.0.1', '10.0.0.1'],
    [{ 'x-forwarded-for': '203.0.113.7' }, '10.0.0.1', '203.0.113.7'],
    [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.0.0.2' }, '10.0.0.1', '203.0.113.7'],
    [{ 'x-forwarded-for': '10.0.0.3, 10.0.0.2' }, '10.0.0.1', '10.0.0.3'],
    [{ 'x-forwarded-for': '203.0.113.7, garbage' }, '10.0.0.1', '10.0.0.1'],
    [{ 'x-forwarded-for': '::ffff:203.0.113.7' }, '::ffff:10.0.0.1', '203.0.113.7'],
    [{ 'x-forwarded-for': '2001:db8::5, 2a01:4f8::1' }, '10.0.0.1', '2a01:4f8::1'],
    [{ forwarded: 'for=203.0.113.7;proto=https, for="[2001:db8::9]:443"' }, '10.0.0.1', '203.0.113.7'],
    [{ forwarded: 'for="203.0.113.7:8080"' }, '10.0.0.1', '203.0.113.7'],
    [{ forwarded: 'for=_hidden' }, '10.0.0.1', '10.0.0.1'],
    // X-Forwarded-For wins when both are present.
    [{ 'x-forwarded-for': '198.51.100.1', forwarded: 'for=203.0.113.7' }, '10.0.0.1', '198.51.100.1'],
  ]
  for (const [headers, peer, expected] of cases) {
    assert.equal(clientAddress(headers, peer, trusted), expected, JSON.stringify(headers))
  }
})
