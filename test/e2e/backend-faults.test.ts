import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { Agent, request as httpRequest } from 'node:http'
import { type TestContext, test } from 'node:test'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

// A backend in a process of its own, so that it can die as a real one does: SIGKILL, the kernel
// closing its sockets with requests in flight. It prints its port once it listens.
const backendScript = `
const { createServer } = require('node:http')
const [name, port] = process.argv.slice(1)
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => { res.setHeader('x-backend', name); res.end(name) })
})
server.listen(Number(port), '127.0.0.1', () => console.log(server.address().port))
`

interface BackendProcess {
  child: ChildProcess
  port: number
}

async function startBackendProcess(t: TestContext, name: string, port = 0): Promise<BackendProcess> {
  const child = spawn(process.execPath, ['-e', backendScript, name, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  return { child, port: Number(line.toString().trim()) }
}

test('a backend killed under load from 50 clients, five times over, costs no idempotent request (#21)', {
  timeout: 180_000,
}, async (t) => {
  const names = ['a', 'b', 'c']
  const backends = await Promise.all(names.map((name) => startBackendProcess(t, name)))
  const portico = await spawnPortico(
    t,
    [
      'run',
      '-c',
      writeConfig({
        workers: 2,
        listeners: [{ address: '127.0.0.1:0' }],
        pools: {
          web: {
            servers: backends.map((b) => `127.0.0.1:${b.port}`),
            health_check: { path: '/', interval: '100ms', rise: 1, fall: 1 },
          },
        },
        routes: [{ pool: 'web' }],
        access_log: { output: 'off' },
      }),
    ],
    { listeners: 1 },
  )
  const url = portico.urls[0]!
  const agent = new Agent({ keepAlive: true, maxSockets: 50 })
  t.after(() => agent.destroy())

  const failures: string[] = []
  let answered = 0
  /** Waiters on the load: each is checked after every answer. */
  const waiters = new Set<() => boolean>()
  const seen = (check: () => boolean) =>
    new Promise<void>((resolve) => {
      const waiter = () => {
        if (!check()) return false
        resolve()
        return true
      }
      if (!waiter()) waiters.add(waiter)
    })
  let lastFrom = ''
  const answer = (status: number, from: string, body: string) => {
    answered++
    lastFrom = from
    if (status !== 200) failures.push(`${status} ${body}`)
    for (const w of waiters) if (w()) waiters.delete(w)
  }
  const get = () =>
    new Promise<void>((resolve) => {
      httpRequest(url, { agent }, (res) => {
        let body = ''
        res.setEncoding('latin1')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve(answer(res.statusCode!, String(res.headers['x-backend']), body)))
        res.on('error', (err) => resolve(answer(0, '', `response ${err.message}`)))
      })
        .on('error', (err) => resolve(answer(0, '', err.message)))
        .end()
    })

  // Every server takes traffic once its first check passed.
  await portico.waitFor(/(server healthy[\s\S]*){3}/)
  let running = true
  const began = performance.now()
  const clients = Array.from({ length: 50 }, async () => {
    while (running) await get()
  })
  for (let round = 0; round < 5; round++) {
    const name = names[round % 3]!
    const i = round % 3
    const from = answered
    await seen(() => answered >= from + 100)
    backends[i]!.child.kill('SIGKILL')
    await once(backends[i]!.child, 'exit')
    // The load goes on over the two servers left, then the dead one comes back on its port.
    const killedAt = answered
    await seen(() => answered >= killedAt + 100)
    backends[i] = await startBackendProcess(t, name, backends[i]!.port)
    await seen(() => lastFrom === name)
    t.diagnostic(`round ${round}: ${answered} answered after ${Math.round(performance.now() - began)} ms`)
  }
  running = false
  await Promise.all(clients)
  t.diagnostic(`${answered} requests, ${failures.length} failed`)
  const kinds = new Map<string, number>()
  for (const f of failures) kinds.set(f, (kinds.get(f) ?? 0) + 1)
  assert.deepEqual(Object.fromEntries(kinds), {})
})
