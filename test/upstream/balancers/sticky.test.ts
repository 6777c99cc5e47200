import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sticky } from '../../../src/upstream/balancers/sticky.ts'
import { testExchange, testServers } from '../../helpers/servers.ts'
import { contractOptions } from './contract.ts'

/** The `name=value` part of a Set-Cookie. */
function cookieOf(setCookie: string | undefined): string {
  assert.ok(setCookie, 'expected a Set-Cookie')
  return setCookie.split(';')[0]!
}

test('sticky pins a client to the server its cookie names', () => {
  const servers = testServers([1, 1, 1])
  const b = sticky(servers, contractOptions())
  const first = testExchange()
  const chosen = b.pick(first, () => true)!
  const cookie = cookieOf(first.setCookie)
  assert.match(first.setCookie!, /; Path=\/; HttpOnly; SameSite=Lax$/)
  for (let i = 0; i < 10; i++) {
    const x = testExchange({ headers: { cookie: `other=1; ${cookie}` } })
    assert.equal(
      b.pick(x, () => true),
      chosen,
    )
    assert.equal(x.setCookie, undefined, 'a valid cookie is not set again')
  }
})

test('sticky ignores a forged cookie and never reveals a server address in it', () => {
  const servers = testServers([1, 1, 1])
  const b = sticky(servers, contractOptions())
  const picks = new Set()
  for (const forged of ['a:10000', 'b:10001', 'AAAAAAAAAAAAAAAAAAAAAA', '']) {
    for (let i = 0; i < 3; i++) {
      const x = testExchange({ headers: { cookie: `portico_server=${forged}` } })
      picks.add(b.pick(x, () => true))
      assert.ok(x.setCookie && !x.setCookie.includes('1000'), 'a fresh signed cookie replaces the forged one')
    }
  }
  assert.equal(picks.size, 3, 'forged cookies are spread by the fallback like cookieless clients')
})

test('sticky falls back and re-pins when the pinned server is down', () => {
  const servers = testServers([1, 1, 1])
  const b = sticky(servers, contractOptions())
  const first = testExchange()
  const pinned = b.pick(first, () => true)!
  const x = testExchange({ headers: { cookie: cookieOf(first.setCookie) } })
  const other = b.pick(x, (s) => s !== pinned)!
  assert.notEqual(other, pinned)
  assert.notEqual(cookieOf(x.setCookie), cookieOf(first.setCookie))
})

test('sticky cookies signed with another secret choose nothing', () => {
  const servers = testServers([1, 1])
  const theirs = sticky(servers, {
    ...contractOptions(),
    sticky: { ...contractOptions().sticky!, secret: 'another-secret-0123456789' },
  })
  const ours = sticky(servers, contractOptions())
  const minted = testExchange()
  theirs.pick(minted, () => true)
  const x = testExchange({ headers: { cookie: cookieOf(minted.setCookie) } })
  ours.pick(x, () => true)
  assert.ok(x.setCookie, 'the foreign cookie was not accepted')
})

test('sticky marks its cookie Secure for a client that came over TLS', () => {
  const b = sticky(testServers([1, 1]), contractOptions())
  const x = testExchange()
  Object.assign(x, { secure: true })
  b.pick(x, () => true)
  assert.match(x.setCookie!, /; Secure$/)
})
