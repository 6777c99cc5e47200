import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validHost } from '../../src/http/valid-host.ts'

test('a host name or IP literal with an optional port is a valid authority', () => {
  for (const authority of ['example.com', 'Example.COM:8080', '127.0.0.1:80', '[::1]:8443', '[2001:db8::1]', '']) {
    assert.equal(validHost(['Host', authority], authority), true, authority)
  }
})

test('an authority with userinfo, a path, spaces or a bad port is not', () => {
  for (const authority of ['user@evil.example', 'a.example/x', 'a b', 'a.example:80x', 'a.example:123456', '[::1']) {
    assert.equal(validHost(['Host', authority], authority), false, authority)
  }
})

test('more than one Host field line is invalid, in any case', () => {
  assert.equal(validHost(['Host', 'a.example', 'X-A', '1', 'HOST', 'a.example'], 'a.example'), false)
  assert.equal(validHost(['X-Host', 'b', 'Host', 'a.example', 'Hosts', 'c'], 'a.example'), true)
})
