import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freeChunk } from '../../../src/engine/client/body-writes.ts'

test('freeChunk empties a chunk that is the whole of its own memory, as a body chunk node reads', () => {
  const chunk = Buffer.from(new ArrayBuffer(64 * 1024))
  freeChunk(chunk)
  assert.equal(chunk.buffer.byteLength, 0)
  assert.equal(chunk.length, 0)
})

test('freeChunk leaves alone a chunk that shares its memory, and a small one', () => {
  const whole = Buffer.alloc(64 * 1024, 1)
  const part = whole.subarray(16, 32 * 1024)
  freeChunk(part)
  assert.equal(whole.buffer.byteLength, 64 * 1024)
  assert.equal(part[0], 1)
  const small = Buffer.from(new ArrayBuffer(1024))
  freeChunk(small)
  assert.equal(small.buffer.byteLength, 1024)
})
