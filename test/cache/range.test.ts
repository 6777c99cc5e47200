import assert from 'node:assert/strict'
import { test } from 'node:test'
import { byteRanges, ifRangeHolds } from '../../src/cache/range.ts'

test('Range headers give the satisfiable ranges, unsatisfiable, or undefined for the whole body', () => {
  const cases: [string, ReturnType<typeof byteRanges>][] = [
    ['bytes=0-4', [{ start: 0, end: 4 }]],
    [
      'bytes=0-1, 20-30, -2',
      [
        { start: 0, end: 1 },
        { start: 8, end: 9 },
      ],
    ],
    ['bytes=20-', 'unsatisfiable'],
    ['items=0-1', undefined],
    ['bytes=5-1', undefined],
    [`bytes=${Array.from({ length: 17 }, (_, i) => `${i}-${i}`).join(',')}`, undefined],
  ]
  for (const [header, expected] of cases) assert.deepEqual(byteRanges(header, 10), expected, header)
})

test('If-Range keeps the range only for the stored strong ETag or exact Last-Modified', () => {
  const date = 'Mon, 01 Jan 2024 00:00:00 GMT'
  assert.equal(ifRangeHolds(undefined, '"a"', date), true)
  assert.equal(ifRangeHolds('"a"', '"a"', date), true)
  assert.equal(ifRangeHolds('W/"a"', 'W/"a"', date), false)
  assert.equal(ifRangeHolds(date, '"a"', date), true)
  assert.equal(ifRangeHolds('Tue, 02 Jan 2024 00:00:00 GMT', '"a"', date), false)
})
