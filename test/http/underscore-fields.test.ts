import assert from 'node:assert/strict'
import { test } from 'node:test'
import { headerRecord } from '../../src/engine/server/request.ts'
import { dropUnderscoreFields } from '../../src/http/underscore-fields.ts'

test('dropUnderscoreFields removes names with underscores from the raw list and the record, keeping the rest in order (#21)', () => {
  const rawHeaders = ['Host', 'a', 'X_Forwarded_For', '1.2.3.4', 'x-a', '1', 'x_a', '2', 'X-B', '3', '_', '4']
  const req = { rawHeaders, headers: headerRecord(rawHeaders) }
  dropUnderscoreFields(req)
  assert.deepEqual(req.rawHeaders, ['Host', 'a', 'x-a', '1', 'X-B', '3'])
  assert.deepEqual(req.headers, { host: 'a', 'x-a': '1', 'x-b': '3' })
})

test('dropUnderscoreFields leaves a request without such names as it is', () => {
  const rawHeaders = ['Host', 'a', 'X-A', '1']
  const req = { rawHeaders, headers: headerRecord(rawHeaders) }
  dropUnderscoreFields(req)
  assert.equal(req.rawHeaders, rawHeaders)
  assert.deepEqual(rawHeaders, ['Host', 'a', 'X-A', '1'])
})
