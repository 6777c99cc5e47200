import assert from 'node:assert/strict'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { stringify } from 'yaml'
import { startAdminPortico } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

test('SIGHUP reloads the config file; a broken one is refused with its errors and the old routes keep serving', async (t) => {
  const [a, b] = await Promise.all([startBackend(t, 'a'), startBackend(t, 'b')])
  const config = (pool: string) => ({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { a: { servers: [a.address] }, b: { servers: [b.address] } },
    routes: [{ pool }],
    access_log: { output: 'off' },
  })
  const file = writeConfig(config('a'))
  const portico = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  const url = portico.urls[0]!
  assert.equal((await get(url)).body, 'a')

  writeFileSync(file, stringify(config('b')))
  portico.child.kill('SIGHUP')
  await portico.waitFor(/config reloaded/)
  assert.equal((await get(url)).body, 'b')

  writeFileSync(file, stringify(config('a')).replace('routes:', 'routs:'))
  portico.child.kill('SIGHUP')
  const [refusal] = await portico.waitFor(/^.*reload refused.*$/m)
  const { errors } = JSON.parse(refusal) as { errors: string[] }
  assert.ok(errors.includes(`${file}:10:1 routs: unknown key "routs"; did you mean "routes"?`), refusal)
  assert.equal((await get(url)).body, 'b')
  assert.equal(portico.child.exitCode, null, 'still running')
})

test('a reload that changes listeners says they wait for a restart', async (t) => {
  const { address } = await startBackend(t, 'a')
  const config = (port: number) => ({
    listeners: [{ address: `127.0.0.1:${port}` }],
    pools: { web: { servers: [address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: 'off' },
  })
  const file = writeConfig(config(0))
  const portico = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  writeFileSync(file, stringify(config(1)))
  portico.child.kill('SIGHUP')
  const [warning] = await portico.waitFor(/^.*changes that take effect only on restart.*$/m)
  assert.deepEqual((JSON.parse(warning) as { keys: string[] }).keys, ['listeners'])
  assert.equal((await get(portico.urls[0]!)).body, 'a')
})

/** A config of two workers whose routes and pools change with `n`, with the admin API on port 0. */
function changing(n: number, servers: { a: string; b: string; ws: string }) {
  return {
    listeners: [{ address: '127.0.0.1:0' }],
    workers: 2,
    pools: {
      web: { servers: n % 2 ? [servers.a, servers.b] : [servers.a] },
      ws: { servers: [servers.ws] },
      [`extra${n % 3}`]: { servers: [servers.b] },
    },
    routes: [
      { match: { path: '/ws' }, pool: 'ws' },
      { match: { path: `/other${n}` }, pool: `extra${n % 3}` },
      { pool: 'web' },
    ],
    access_log: { output: 'off' },
    admin: { address: '127.0.0.1:0', tokens: [{ name: 'ops', env: 'TEST_ADMIN_TOKEN' }] },
  }
}

test('20 reloads that change pools and routes under continuous GET and POST load fail no request, and a WebSocket on a route that stays survives them', {
  timeout: 120_000,
}, async (t) => {
  const echo = (name: string) =>
    startBackend(t, name, (req, res) => {
      req.resume()
      req.on('end', () => res.end(name))
    })
  const [a, b] = await Promise.all([echo('a'), echo('b')])
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)))
  t.after(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
  })
  const servers = { a: a.address, b: b.address, ws: `127.0.0.1:${(wss.address() as AddressInfo).port}` }
  const { p, file, url, call } = await startAdminPortico(t, changing(0, servers))

  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`)
  t.after(() => ws.terminate())
  await once(ws, 'open')
  let wsClosed = false
  ws.on('close', () => (wsClosed = true))

  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  t.after(() => agent.destroy())
  const failures: string[] = []
  let done = 0
  let stop = false
  const loop = async (method: 'GET' | 'POST', fresh: boolean) => {
    while (!stop) {
      try {
        const reply = await send(url, method, fresh ? undefined : agent)
        if (reply.status !== 200) failures.push(`${method} ${reply.status} ${reply.body}`)
      } catch (err) {
        failures.push(`${method} ${(err as Error).message}`)
      }
      done++
    }
  }
  const loops = [loop('GET', false), loop('POST', false), loop('GET', true), loop('POST', true)]
  const reloads: number[] = []
  for (let n = 1; n <= 20; n++) {
    writeFileSync(file, stringify(changing(n, servers)))
    const reply = await call('POST', '/reload')
    assert.equal(reply.status, 200, JSON.stringify(reply.body))
    reloads.push(reply.body.ms)
    ws.send(`after reload ${n}`)
    const [echoed] = await once(ws, 'message')
    assert.equal(String(echoed), `after reload ${n}`)
  }
  stop = true
  await Promise.all(loops)
  assert.deepEqual(failures, [])
  assert.ok(done > 40, `only ${done} requests were made`)
  assert.equal(wsClosed, false, 'the WebSocket stayed open')
  assert.equal((await get(`${url}/other20`)).body, 'b', 'the last reload took')
  t.diagnostic(`reload ms: ${reloads.join(' ')}; requests during reloads: ${done}`)
  assert.equal(p.child.exitCode, null)
})

function send(
  url: string,
  method: 'GET' | 'POST',
  agent: Agent | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: agent ?? false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(method === 'POST' ? 'x'.repeat(2048) : undefined)
  })
}
