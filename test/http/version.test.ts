import assert from 'node:assert/strict'
import { test } from 'node:test'
import { servedVersion } from '../../src/http/version.ts'

test('servedVersion refuses HTTP/0.9 and HTTP/1.0 with Transfer-Encoding, and takes the rest (#21)', () => {
  const cases: [number, number, Record<string, string>, boolean][] = [
    [1, 1, { 'transfer-encoding': 'chunked' }, true],
    [1, 1, {}, true],
    [2, 0, {}, true],
    [1, 0, {}, true],
    [1, 0, { 'content-length': '3' }, true],
    [1, 0, { 'transfer-encoding': 'chunked' }, false],
    [1, 0, { 'transfer-encoding': 'gzip, chunked', 'content-length': '3' }, false],
    [0, 9, {}, false],
    [1, 2, {}, false],
  ]
  for (const [major, minor, headers, served] of cases) {
    const req = { httpVersionMajor: major, httpVersionMinor: minor, headers }
    assert.equal(servedVersion(req), served, `${major}.${minor} ${JSON.stringify(headers)}`)
  }
})
