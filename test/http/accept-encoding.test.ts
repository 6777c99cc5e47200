import assert from 'node:assert/strict'
import { test } from 'node:test'
import { acceptEncoding } from '../../src/http/accept-encoding.ts'

const offered = ['zstd', 'br', 'gzip']

const cases: [rule: string, header: string | undefined, expected: string | undefined][] = [
  ['no header: nothing is compressed', undefined, undefined],
  ['an empty header asks for identity only', '', undefined],
  ['a single coding is chosen', 'gzip', 'gzip'],
  ['equal q-values go to the preference order', 'gzip, br, zstd', 'zstd'],
  ['equal q-values ignore the order the client wrote', 'gzip, br', 'br'],
  ['a higher q-value beats the preference order', 'zstd;q=0.5, gzip;q=0.9', 'gzip'],
  ['q=0 makes a coding unacceptable', 'zstd;q=0, br;q=0, gzip', 'gzip'],
  ['only unacceptable codings: sent as it is', 'gzip;q=0', undefined],
  ['codings Portico does not offer are ignored', 'compress, deflate', undefined],
  ['names are case-insensitive', 'GZip', 'gzip'],
  ['x-gzip is gzip', 'x-gzip', 'gzip'],
  ['* accepts every coding, preferred first', '*', 'zstd'],
  ['* gives unnamed codings its q-value', 'gzip;q=0.8, *;q=0.5', 'gzip'],
  ['a named coding keeps its own q-value under *', 'zstd;q=0, *', 'br'],
  ['*;q=0 with nothing named accepts nothing', '*;q=0', undefined],
  ['identity;q=0 does not stop a coding', 'gzip, identity;q=0', 'gzip'],
  ['identity;q=0 alone: sent as it is', 'identity;q=0', undefined],
  ['identity rated above every coding wins', 'identity, gzip;q=0.5', undefined],
  ['identity rated equal to a coding: the coding wins', 'identity;q=0.5, gzip;q=0.5', 'gzip'],
  ['whitespace around names and parameters is allowed', ' br ; q=0.7 ,\tgzip ;q = 0.6', 'br'],
  ['q with three decimals is read', 'gzip;q=0.001, br;q=0.002', 'br'],
  ['a malformed q-value counts as 0', 'br;q=2, gzip;q=0.5', 'gzip'],
  ['a q-value of 1.000 is 1', 'gzip;q=1.000, br;q=0.999', 'gzip'],
  ['other parameters are skipped', 'br;level=5;q=0.4, gzip;q=0.3', 'br'],
  ['empty elements are skipped', ',, gzip ,', 'gzip'],
  ['a browser header picks the preferred coding', 'gzip, deflate, br, zstd', 'zstd'],
]

for (const [rule, header, expected] of cases) {
  test(`Accept-Encoding: ${rule} (${JSON.stringify(header)} → ${expected ?? 'as is'})`, () => {
    assert.equal(acceptEncoding(header, offered), expected)
  })
}

test('Accept-Encoding: the preference order is the configured one', () => {
  assert.equal(acceptEncoding('gzip, br, zstd', ['gzip', 'br']), 'gzip')
  assert.equal(acceptEncoding('*', ['br', 'gzip']), 'br')
})
