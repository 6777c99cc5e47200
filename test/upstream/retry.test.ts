import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import type { FailureCode } from '../../src/errors.ts'
import type { Exchange } from '../../src/exchange.ts'
import { mayRetry } from '../../src/upstream/retry.ts'

function exchange(method: string, headers: Record<string, string> = {}, headersSent = false): Exchange {
  return { req: { method, headers }, res: { headersSent } } as unknown as Exchange
}

const unread = () => new PassThrough()
const read = () => {
  const body = new PassThrough()
  body.write('x')
  body.read()
  return body
}

const cases: [string, Exchange, FailureCode, () => PassThrough | null, boolean][] = [
  ['a refused POST: it never reached a server', exchange('POST'), 'backend_refused', unread, true],
  ['a connect timeout on a GET', exchange('GET'), 'connect_timeout', () => null, true],
  ['a reset GET', exchange('GET'), 'backend_reset', () => null, true],
  ['a timed-out PUT whose body was not read', exchange('PUT'), 'backend_timeout', unread, true],
  [
    'a reset POST without a body: the backend may have acted on it',
    exchange('POST'),
    'backend_reset',
    () => null,
    false,
  ],
  [
    'a reset POST whose body the backend never got: its head may have been acted on (#21)',
    exchange('POST'),
    'backend_reset',
    unread,
    false,
  ],
  [
    'a reset POST with Idempotency-Key',
    exchange('POST', { 'idempotency-key': 'k1' }),
    'backend_reset',
    () => null,
    true,
  ],
  ['a reset PUT whose body was read in part', exchange('PUT'), 'backend_reset', read, false],
  ['a refused POST whose body was read in part', exchange('POST'), 'backend_refused', read, false],
  ['a malformed answer', exchange('GET'), 'backend_error', () => null, false],
  ['a reset GET after the response started', exchange('GET', {}, true), 'backend_reset', () => null, false],
]

for (const [what, x, code, body, want] of cases) {
  test(`mayRetry ${want ? 'retries' : 'does not retry'} ${what}`, () => {
    assert.equal(mayRetry(x, code, body()), want)
  })
}
