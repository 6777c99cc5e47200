import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardedElement, plainAddress } from '../../src/http/forwarded.ts'

test('the Forwarded element names client, protocol and host as RFC 7239 writes them', () => {
  const cases: [string, boolean, string, string][] = [
    ['192.0.2.60', false, 'example.com', 'for=192.0.2.60;proto=http;host=example.com'],
    ['::ffff:192.0.2.60', true, 'example.com:8443', 'for=192.0.2.60;proto=https;host="example.com:8443"'],
    ['2001:db8:cafe::17', false, 'example.com', 'for="[2001:db8:cafe::17]";proto=http;host=example.com'],
    ['192.0.2.60', false, '', 'for=192.0.2.60;proto=http'],
    ['192.0.2.60', false, 'a"b', 'for=192.0.2.60;proto=http;host="a\\"b"'],
  ]
  for (const [client, secure, authority, expected] of cases) {
    assert.equal(forwardedElement(client, secure, authority), expected)
  }
})

test('X-Forwarded-For writes IPv4-mapped addresses as plain IPv4 and IPv6 as is', () => {
  assert.equal(plainAddress('::ffff:10.1.2.3'), '10.1.2.3')
  assert.equal(plainAddress('10.1.2.3'), '10.1.2.3')
  assert.equal(plainAddress('::1'), '::1')
})
