import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadTokens } from '../../src/admin/tokens.ts'
import { isLoopback } from '../../src/config/admin-schema.ts'
import { writeConfig } from '../helpers/spawn.ts'

const settings = (tokens: { name: string; env?: string; file?: string }[]) =>
  ({ address: '127.0.0.1:0', tokens, watch_config: false, watch_debounce: 300 }) as const

test('a bearer token is matched to the name of the token it is, from an environment variable or a file', () => {
  const file = writeConfig('  from-a-file-0123456789\n', 'token')
  const tokens = loadTokens(
    settings([
      { name: 'ops', env: 'OPS' },
      { name: 'ci', file },
    ]),
    { OPS: 'ops-token-0123456789' },
  )
  assert.equal(tokens.required, true)
  assert.equal(tokens.holder('Bearer ops-token-0123456789'), 'ops')
  assert.equal(tokens.holder('bearer from-a-file-0123456789'), 'ci')
  for (const wrong of [undefined, '', 'Bearer', 'Bearer ops-token-012345678', 'Basic ops-token-0123456789'])
    assert.equal(tokens.holder(wrong), undefined, String(wrong))
})

test('a token that is unset or shorter than 16 characters stops the start', () => {
  assert.throws(
    () => loadTokens(settings([{ name: 'ops', env: 'OPS' }]), {}),
    /admin token "ops": environment variable OPS/,
  )
  assert.throws(() => loadTokens(settings([{ name: 'ops', env: 'OPS' }]), { OPS: 'short' }), /at least 16 characters/)
})

test('without tokens every caller is let in', () => {
  assert.equal(loadTokens(settings([])).required, false)
})

test('loopback addresses are 127.0.0.0/8, ::1 and localhost', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1:9901', true],
    ['127.1.2.3:1', true],
    ['[::1]:9901', true],
    ['localhost:9901', true],
    ['0.0.0.0:9901', false],
    ['[::]:9901', false],
    ['10.0.0.1:9901', false],
    ['admin.example.com:9901', false],
  ]
  for (const [address, loopback] of cases) assert.equal(isLoopback(address), loopback, address)
})
