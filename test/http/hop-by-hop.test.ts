import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectionTokens, isHopByHop } from '../../src/http/hop-by-hop.ts'

test('hop-by-hop headers of RFC 9110 are recognised, end-to-end ones are not', () => {
  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade']) {
    assert.equal(isHopByHop(name), true, name)
  }
  for (const name of ['trailer', 'content-length', 'content-type', 'authorization', 'x-custom']) {
    assert.equal(isHopByHop(name), false, name)
  }
})

test('the names listed in Connection are read case-insensitively, across repeated headers', () => {
  assert.deepEqual(connectionTokens('X-Secret, close'), new Set(['x-secret']))
  assert.deepEqual(connectionTokens(['keep-alive, X-A', ' x-b ,,']), new Set(['x-a', 'x-b']))
})

test('a Connection header with only close or keep-alive names no extra header', () => {
  assert.equal(connectionTokens(undefined), undefined)
  assert.equal(connectionTokens('close'), undefined)
  assert.equal(connectionTokens('Keep-Alive'), undefined)
})
