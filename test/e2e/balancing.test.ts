import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, request } from '../helpers/http.ts'
import { startPortico, testConfig } from '../helpers/portico.ts'

async function backends(t: Parameters<typeof startBackend>[0], names: string[]): Promise<string[]> {
  return Promise.all(names.map(async (n) => (await startBackend(t, n)).address))
}

async function seenFor(url: string, count: number, headers?: Record<string, string>): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < count; i++) seen.push((await get(url, headers)).headers['x-backend'] as string)
  return seen
}

// With 40 keys each of three servers gets some, whatever ports they have; with 20, about one set
// of ports in a thousand left a server without a key.
const hashKeys = 40

/**
 * Sends three requests for each of `keys` keys, with the headers `headersFor` gives each, asserts
 * that each key stays on one server, and returns the servers that took keys.
 */
async function keyHomes(url: string, keys: number, headersFor: (key: number) => Record<string, string>) {
  const homes = new Set<string>()
  for (let key = 0; key < keys; key++) {
    const headers = headersFor(key)
    const seen = new Set(await seenFor(url, 3, headers))
    assert.equal(seen.size, 1, `${JSON.stringify(headers)} moved between servers`)
    homes.add([...seen][0]!)
  }
  return homes
}

test('round_robin follows weights exactly: 3,1 gives a a b a', async (t) => {
  const [a, b] = await backends(t, ['a', 'b'])
  const proxy = await startPortico(t, {
    pools: {
      web: {
        servers: [
          { address: a!, weight: 3 },
          { address: b!, weight: 1 },
        ],
      },
    },
    routes: [{ pool: 'web' }],
  })
  assert.deepEqual(await seenFor(proxy.url, 8), ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a'])
})

test('least_conn steers away from a slow server', async (t) => {
  const held: ServerResponse[] = []
  const slow = await startBackend(t, 'slow', (_req, res) => {
    held.push(res)
  })
  const fast = await startBackend(t, 'fast')
  t.after(() => {
    for (const res of held) res.end()
  })
  const proxy = await startPortico(t, {
    pools: { web: { balancer: 'least_conn', servers: [slow.address, fast.address] } },
    routes: [{ pool: 'web' }],
  })
  const answers: string[] = []
  const pending: Promise<unknown>[] = []
  for (let i = 0; i < 20; i++) {
    // Each request either comes back from the fast server or is held by the slow one.
    const reply = get(proxy.url).then((r) => answers.push(r.headers['x-backend'] as string))
    pending.push(reply)
    const arrived = new AbortController()
    await Promise.race([reply, once(slow.server, 'request', { signal: arrived.signal }).catch(() => {})])
    arrived.abort()
  }
  assert.equal(held.length, 1, 'only the first request, while both were idle, went to the slow server')
  assert.equal(answers.filter((a) => a === 'fast').length, 19)
  for (const res of held.splice(0)) res.end('slow')
  await Promise.all(pending)
})

test('hash on a header keeps each key on one server and spreads the keys', async (t) => {
  const servers = await backends(t, ['a', 'b', 'c'])
  const proxy = await startPortico(t, {
    pools: { web: { balancer: 'hash', hash_key: 'header:x-user', servers } },
    routes: [{ pool: 'web' }],
  })
  const homes = await keyHomes(proxy.url, hashKeys, (user) => ({ 'x-user': `user-${user}` }))
  assert.equal(homes.size, 3)
})

test('hash moves only the removed server’s keys, about 1/N of them, when a reload drops one of N servers', async (t) => {
  const servers = await backends(t, ['a', 'b', 'c', 'd'])
  const config = (list: string[]) => ({
    pools: { web: { balancer: 'hash' as const, hash_key: 'query:user', servers: list } },
    routes: [{ pool: 'web' }],
  })
  const proxy = await startPortico(t, config(servers))
  const keys = Array.from({ length: 400 }, (_, i) => `k${i}`)
  const homes = async () => {
    const out: string[] = []
    for (let i = 0; i < keys.length; i += 40) {
      const batch = keys.slice(i, i + 40).map((k) => get(`${proxy.url}/?user=${k}`))
      for (const r of await Promise.all(batch)) out.push(r.headers['x-backend'] as string)
    }
    return out
  }
  const before = await homes()
  proxy.reload(testConfig(config(servers.filter((_, i) => i !== 1))))
  const after = await homes()
  let moved = 0
  for (const [i, home] of before.entries()) {
    if (after[i] === home) continue
    moved++
    assert.equal(home, 'b', `key ${keys[i]} moved from ${home}, which stayed`)
  }
  const share = moved / keys.length
  assert.ok(share > 0.12 && share < 0.38, `${(share * 100).toFixed(0)}% of keys moved, expected about 25%`)
})

test('hash on a cookie matches its name exactly, case included', async (t) => {
  const servers = await backends(t, ['a', 'b', 'c'])
  const proxy = await startPortico(t, {
    pools: { web: { balancer: 'hash', hash_key: 'cookie:SessionID', servers } },
    routes: [{ pool: 'web' }],
  })
  const homes = await keyHomes(proxy.url, hashKeys, (user) => ({ cookie: `theme=dark; SessionID=s${user}` }))
  assert.equal(homes.size, 3)
})

test('ip_hash keeps a client on one server', async (t) => {
  const servers = await backends(t, ['a', 'b', 'c'])
  const proxy = await startPortico(t, { pools: { web: { balancer: 'ip_hash', servers } }, routes: [{ pool: 'web' }] })
  assert.equal(new Set(await seenFor(proxy.url, 6)).size, 1)
})

test('random and p2c reach every server', async (t) => {
  const servers = await backends(t, ['a', 'b', 'c'])
  for (const balancer of ['random', 'p2c'] as const) {
    const proxy = await startPortico(t, { pools: { web: { balancer, servers } }, routes: [{ pool: 'web' }] })
    assert.equal(new Set(await seenFor(proxy.url, 60)).size, 3, balancer)
  }
})

test('sticky sets a signed cookie that keeps the client on one server; a forged cookie chooses nothing', async (t) => {
  const servers = await backends(t, ['a', 'b', 'c'])
  const proxy = await startPortico(t, {
    pools: { web: { balancer: 'sticky', sticky: { secret: 'a-test-secret-of-some-length' }, servers } },
    routes: [{ pool: 'web' }],
  })
  const first = await get(proxy.url)
  const setCookie = first.headers['set-cookie']?.[0]
  assert.match(setCookie ?? '', /^portico_server=[\w-]{22}; Path=\/; HttpOnly; SameSite=Lax$/)
  const cookie = setCookie!.split(';')[0]!
  const pinned = await seenFor(proxy.url, 6, { cookie })
  assert.deepEqual(new Set(pinned), new Set([first.headers['x-backend']]))

  // Forged values are ignored: the round_robin fallback spreads them and each gets a real cookie.
  const forged: string[] = []
  for (const value of ['a', first.headers['x-backend'], `${cookie.slice(15, 30)}xxxxxxx`, '127.0.0.1']) {
    const r = await request(proxy.url, { headers: { cookie: `portico_server=${value}` } })
    assert.ok(r.headers['set-cookie'], 'a forged cookie is replaced')
    forged.push(r.headers['x-backend'] as string)
  }
  assert.ok(new Set(forged).size > 1, `forged cookies all landed on ${forged[0]}`)
})

test('examples/load-balancing.yaml is a valid config', () => {
  const config = loadConfig(new URL('../../examples/load-balancing.yaml', import.meta.url).pathname)
  assert.ok(Object.keys(config.pools).length > 0)
})
