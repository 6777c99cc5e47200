import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingHttpHeaders } from 'node:http'
import { connect, type OutgoingHttpHeaders } from 'node:http2'
import { test } from 'node:test'
import { hashPassword } from '../../src/filters/auth/password.ts'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

// One hash for the file: each costs tens of milliseconds, as it should.
const aliceHash = await hashPassword('wonderland')
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

/** A backend that answers with the headers it received, as JSON. */
async function echoBackend(t: Parameters<typeof startBackend>[0], seen: IncomingHttpHeaders[]) {
  return startBackend(t, 'b', (req, res) => {
    seen.push(req.headers)
    res.end(JSON.stringify(req.headers))
  })
}

async function guarded(t: Parameters<typeof startBackend>[0], seen: IncomingHttpHeaders[], extra: object = {}) {
  const backend = await echoBackend(t, seen)
  return startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', http2: { enabled: true } }],
    pools: { web: { servers: [backend.address] } },
    routes: [
      {
        pool: 'web',
        auth: { basic: { realm: 'Staff only', users: { alice: aliceHash }, user_header: 'X-Auth-User', ...extra } },
      },
    ],
  })
}

test('basic auth lets a listed user with the right password through, without the Authorization header, naming the user', async (t) => {
  const seen: IncomingHttpHeaders[] = []
  const p = await guarded(t, seen)
  const ok = await get(p.url, { authorization: basic('alice', 'wonderland'), 'x-auth-user': 'root' })
  assert.equal(ok.status, 200)
  assert.equal(seen.length, 1)
  assert.equal(seen[0]!.authorization, undefined)
  assert.equal(seen[0]!['x-auth-user'], 'alice')
  // The second request of a signed-in client passes as well (its credentials are remembered).
  assert.equal((await get(p.url, { authorization: basic('alice', 'wonderland') })).status, 200)
  assert.equal(seen.length, 2)
})

test('basic auth answers 401 with WWW-Authenticate to missing, malformed and wrong credentials, and the backend sees none', async (t) => {
  const seen: IncomingHttpHeaders[] = []
  const p = await guarded(t, seen)
  const cases: (string | undefined)[] = [
    undefined,
    basic('alice', 'looking-glass'),
    basic('bob', 'wonderland'),
    basic('', 'wonderland'),
    'Basic !!!not-base64',
    `Basic ${Buffer.from('alice-without-colon').toString('base64')}`,
    'Bearer abc.def.ghi',
    'Basic',
  ]
  for (const authorization of cases) {
    const r = await get(p.url, authorization === undefined ? {} : { authorization })
    assert.equal(r.status, 401, `status for ${authorization}`)
    assert.equal(r.headers['www-authenticate'], 'Basic realm="Staff only", charset="UTF-8"')
    assert.equal(r.body, 'Unauthorized\n')
  }
  assert.equal(seen.length, 0)
})

test('basic auth with forward_authorization passes the Authorization header on', async (t) => {
  const seen: IncomingHttpHeaders[] = []
  const p = await guarded(t, seen, { forward_authorization: true })
  const authorization = basic('alice', 'wonderland')
  assert.equal((await get(p.url, { authorization })).status, 200)
  assert.equal(seen[0]!.authorization, authorization)
})

test('basic auth takes bcrypt hashes as htpasswd -B writes them', async (t) => {
  const { hashSync } = await import('bcryptjs')
  const backend = await startBackend(t, 'b')
  const p = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', auth: { basic: { users: { carol: hashSync('s3cret', 4).replace('$2b$', '$2y$') } } } }],
  })
  assert.equal((await get(p.url, { authorization: basic('carol', 's3cret') })).body, 'b')
  const refused = await get(p.url, { authorization: basic('carol', 's3cret!') })
  assert.equal(refused.status, 401)
  assert.equal(refused.headers['www-authenticate'], 'Basic realm="Restricted", charset="UTF-8"')
})

test('basic auth holds over HTTP/2: right credentials pass, none get 401 with the challenge', async (t) => {
  const seen: IncomingHttpHeaders[] = []
  const p = await guarded(t, seen)
  const session = connect(p.url)
  t.after(() => session.close())
  const ask = async (headers: OutgoingHttpHeaders) => {
    const stream = session.request({ ':path': '/', ...headers })
    const [head] = (await once(stream, 'response')) as [Record<string, string>]
    let body = ''
    stream.setEncoding('utf8')
    for await (const chunk of stream) body += chunk
    return { status: Number(head[':status']), head, body }
  }
  const ok = await ask({ authorization: basic('alice', 'wonderland') })
  assert.equal(ok.status, 200)
  assert.equal(seen[0]!.authorization, undefined)
  assert.equal(seen[0]!['x-auth-user'], 'alice')
  const refused = await ask({})
  assert.equal(refused.status, 401)
  assert.equal(refused.head['www-authenticate'], 'Basic realm="Staff only", charset="UTF-8"')
  assert.equal(seen.length, 1)
})
