import assert from 'node:assert/strict'
import { constants } from 'node:crypto'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { connect, type TLSSocket } from 'node:tls'
import { parseConfig } from '../../src/config/load.ts'
import { deriveKey, loadSecret } from '../../src/instance/secret.ts'
import { accessPids, waitForLine, workerPids } from '../cluster/output.ts'
import { startBackend } from '../helpers/backend.ts'
import { type Pem, TestCa } from '../helpers/certs.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const key = 'k'.repeat(40)

/**
 * One TLS connection to `url` that sends a GET and reads the answer to its end; resolves with
 * whether the session was resumed and the session (or ticket) to resume it with next time. With
 * `noTickets`, the client asks for no ticket, so that it resumes by session id.
 */
async function tlsGet(
  url: string,
  version: 'TLSv1.2' | 'TLSv1.3',
  session?: Buffer,
  noTickets = false,
): Promise<{ reused: boolean; session: Buffer | undefined }> {
  const { port } = new URL(url)
  const socket: TLSSocket = connect({
    host: '127.0.0.1',
    port: Number(port),
    servername: 'localhost',
    rejectUnauthorized: false,
    minVersion: version,
    maxVersion: version,
    session,
    secureOptions: noTickets ? constants.SSL_OP_NO_TICKET : undefined,
  })
  let next: Buffer | undefined
  // TLS 1.3 sends its tickets after the handshake; the first one is enough.
  socket.on('session', (s: Buffer) => (next ??= s))
  await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e))])
  const reused = socket.isSessionReused()
  if (version === 'TLSv1.2') next = socket.getSession()
  socket.write('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n')
  socket.resume()
  await once(socket, 'close')
  return { reused, session: next }
}

function tlsConfig(site: Pem, backend: string) {
  return {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { web: { servers: [backend] } },
    routes: [{ pool: 'web' }],
    workers: 2,
    access_log: { output: 'stdout', format: 'json' },
  }
}

test('with workers: 2, a sticky cookie issued by one worker is honoured by the other (#21)', async (t) => {
  const servers = await Promise.all(['a', 'b', 'c'].map(async (n) => (await startBackend(t, n)).address))
  const p = await spawnPortico(
    t,
    [
      'run',
      '-c',
      writeConfig({
        listeners: [{ address: '127.0.0.1:0' }],
        pools: { web: { balancer: 'sticky', servers } },
        routes: [{ pool: 'web' }],
        workers: 2,
        access_log: { output: 'stdout', format: 'json' },
      }),
    ],
    { listeners: 1 },
  )
  const pids = await workerPids(p, 'workers started')
  const first = await get(p.urls[0]!)
  const cookie = first.headers['set-cookie']![0]!.split(';')[0]!
  // Each request on a new connection: the kernel spreads connections, so 40 reach both workers.
  for (let i = 0; i < 40; i++) {
    const r = await get(p.urls[0]!, { cookie })
    assert.equal(r.body, first.body, `request ${i} left its server`)
    assert.equal(r.headers['set-cookie'], undefined, `request ${i} was given a new cookie`)
  }
  await waitForLine(p, () => (accessPids(p).length >= 41 ? true : undefined))
  assert.deepEqual([...new Set(accessPids(p))].sort(), [...pids].sort())
})

test('with workers: 2, every TLS session resumes, by TLS 1.3 and TLS 1.2 tickets, on either worker (#21)', async (t) => {
  const site = new TestCa(t).issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(tlsConfig(site, backend.address))], { listeners: 1 })
  const pids = await workerPids(p, 'workers started')
  const url = p.urls[0]!
  let requests = 0
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    const first = await tlsGet(url, version)
    requests++
    assert.ok(first.session, `a ${version} session`)
    const reused = []
    for (let i = 0; i < 20; i++) {
      reused.push((await tlsGet(url, version, first.session)).reused)
      requests++
    }
    assert.deepEqual(reused, Array(20).fill(true), `${version} resumptions`)
  }
  await waitForLine(p, () => (accessPids(p).length >= requests ? true : undefined))
  assert.deepEqual([...new Set(accessPids(p))].sort(), [...pids].sort())
})

test('with workers: 2, a TLS 1.2 client without tickets resumes by session id on either worker (#21)', async (t) => {
  const site = new TestCa(t).issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(tlsConfig(site, backend.address))], { listeners: 1 })
  const pids = await workerPids(p, 'workers started')
  const url = p.urls[0]!
  const first = await tlsGet(url, 'TLSv1.2', undefined, true)
  assert.ok(first.session, 'a TLS 1.2 session')
  const reused = []
  for (let i = 0; i < 20; i++) reused.push((await tlsGet(url, 'TLSv1.2', first.session, true)).reused)
  assert.deepEqual(reused, Array(20).fill(true))
  // The resumptions were spread over both workers, not only the one that made the session.
  await waitForLine(p, () => (accessPids(p).length >= 21 ? true : undefined))
  assert.deepEqual([...new Set(accessPids(p))].sort(), [...pids].sort())
})

test('a worker started after a crash resumes the TLS sessions made before it (#21)', async (t) => {
  const site = new TestCa(t).issue('localhost', ['localhost'])
  const backend = await startBackend(t, 'web')
  const p = await spawnPortico(t, ['run', '-c', writeConfig(tlsConfig(site, backend.address))], { listeners: 1 })
  const [killed] = await workerPids(p, 'workers started')
  const url = p.urls[0]!
  const { session } = await tlsGet(url, 'TLSv1.3')
  process.kill(killed!, 'SIGKILL')
  const now = await workerPids(p, 'worker started')
  const before = accessPids(p).length
  const reused = []
  for (let i = 0; i < 20; i++) reused.push((await tlsGet(url, 'TLSv1.3', session)).reused)
  assert.deepEqual(reused, Array(20).fill(true))
  await waitForLine(p, () => (accessPids(p).length >= before + 20 ? true : undefined))
  assert.deepEqual([...new Set(accessPids(p).slice(before))].sort(), [...now].sort())
})

test('two instances given the same secret honour each other’s sticky cookies and TLS sessions', async (t) => {
  const servers = await Promise.all(['a', 'b', 'c'].map(async (n) => (await startBackend(t, n)).address))
  const site = new TestCa(t).issue('localhost', ['localhost'])
  const config = {
    listeners: [{ address: '127.0.0.1:0' }, { address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { web: { balancer: 'sticky' as const, servers } },
    routes: [{ pool: 'web' }],
    secret: { value: key },
  }
  const one = await startPortico(t, config)
  const two = await startPortico(t, config)
  const first = await get(one.urls[0]!)
  const cookie = first.headers['set-cookie']![0]!.split(';')[0]!
  for (let i = 0; i < 6; i++) assert.equal((await get(two.urls[0]!, { cookie })).body, first.body)
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    const { session } = await tlsGet(one.urls[1]!, version)
    assert.equal((await tlsGet(two.urls[1]!, version, session)).reused, true, version)
  }
})

test('the secret comes from the config or a file, else is random; keys derived from it differ by purpose', (t) => {
  assert.deepEqual(loadSecret({ value: ` ${key}\n` }), Buffer.from(key))
  const file = writeConfig(`${key}\n`, 'secret')
  assert.deepEqual(loadSecret({ file }), Buffer.from(key))
  assert.notDeepEqual(loadSecret(undefined), loadSecret(undefined))
  const secret = Buffer.from(key)
  assert.equal(deriveKey(secret, 'a', 48).length, 48)
  assert.deepEqual(deriveKey(secret, 'a', 32), deriveKey(Buffer.from(key), 'a', 32))
  assert.notDeepEqual(deriveKey(secret, 'a', 32), deriveKey(secret, 'b', 32))
  writeFileSync(file, 'short\n')
  assert.throws(() => loadSecret({ file }), /at least 32 characters/)
  t.diagnostic('a short key in the config is refused without being echoed')
  const base = 'listeners: [{address: "127.0.0.1:0"}]\npools: {}\nroutes: [{respond: {status: 200}}]\n'
  assert.throws(
    () => parseConfig(`${base}secret: {value: "not-long-enough-secret"}\n`, 'p.yaml'),
    (err: Error) => /at least 32 characters/.test(err.message) && !err.message.includes('not-long-enough-secret'),
  )
})
