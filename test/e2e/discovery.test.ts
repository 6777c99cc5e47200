import assert from 'node:assert/strict'
import { once } from 'node:events'
import { renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { describe, type TestContext, test } from 'node:test'
import { adminConfig, startAdminPortico } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { startDns } from '../helpers/dns-server.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

/** A backend on `host:port` (port 0: any) that answers with its name; resolves with its port. */
async function backendOn(t: TestContext, host: string, port: number, name: string): Promise<number> {
  const server = createServer((_req, res) => res.end(name))
  server.listen(port, host)
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return (server.address() as AddressInfo).port
}

/**
 * Keeps `loops` clients sending GETs back to back until `stop()`: every answer's body in order,
 * and every request that failed (a refused connection or a status other than 200).
 */
function traffic(url: string, loops = 2) {
  const seen: string[] = []
  const failed: string[] = []
  let running = true
  const waiters = new Set<() => void>()
  const run = async () => {
    while (running) {
      try {
        const reply = await get(url)
        if (reply.status === 200) seen.push(reply.body)
        else failed.push(`${reply.status} ${reply.body}`)
      } catch (err) {
        failed.push((err as Error).message)
      }
      for (const check of waiters) check()
    }
  }
  const done = Promise.all(Array.from({ length: loops }, run))
  return {
    seen,
    failed,
    /** Resolves once the last `n` answers all satisfy `ok`. */
    until(ok: (body: string) => boolean, n = 20): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (seen.length >= n && seen.slice(-n).every(ok)) {
            waiters.delete(check)
            resolve()
          }
        }
        waiters.add(check)
        check()
      })
    },
    async stop() {
      running = false
      await done
    },
  }
}

const fast = (dns: string) => ({
  resolvers: [dns],
  min_ttl: '100ms',
  max_ttl: '1s',
  interval: '200ms',
  keep_last_known: '1500ms',
  drain_deadline: '5s',
})

describe('service discovery', { concurrency: true, timeout: 120_000 }, () => {
  test('each A record of a DNS name is a server; servers join and leave under traffic with no failed request, with two workers', async (t) => {
    const port = await backendOn(t, '127.0.0.2', 0, 'a')
    await backendOn(t, '127.0.0.3', port, 'b')
    const dns = await startDns(t, { 'web.test': { a: ['127.0.0.2'], ttl: 1 } })
    const p = await spawnPortico(
      t,
      [
        'run',
        '-c',
        writeConfig({
          listeners: [{ address: '127.0.0.1:0' }],
          pools: { web: { discover: [{ dns: `web.test:${port}` }] } },
          routes: [{ pool: 'web' }],
          discovery: fast(dns.address),
          workers: 2,
          access_log: { output: 'off' },
        }),
      ],
      { listeners: 1 },
    )
    const url = p.urls[0]!
    assert.equal((await get(url)).body, 'a')
    const load = traffic(url)
    t.after(() => load.stop())
    dns.records.set('web.test', { a: ['127.0.0.2', '127.0.0.3'], ttl: 1 })
    await load.until((b) => b === 'b', 1)
    dns.records.set('web.test', { a: ['127.0.0.3'], ttl: 1 })
    await load.until((b) => b === 'b')
    await p.waitFor(/"op":"discovered".*"left":\["127\.0\.0\.2:\d+"\]/)
    await load.stop()
    assert.deepEqual(load.failed, [])
    assert.ok(load.seen.includes('a') && load.seen.includes('b'))

    // The name stops resolving: its last servers stay, and it says so; later they leave.
    dns.records.set('web.test', { fail: true })
    await p.waitFor(/discovery source failed, its last known servers stay/)
    assert.equal((await get(url)).body, 'b')
    await p.waitFor(/discovery source failed too long, its servers leave/)
    await p.waitFor(/"op":"discovered","pool":"web","joined":\[\],"left":\["127\.0\.0\.3:\d+"\]/)
    assert.equal((await get(url)).status, 503)
  })

  test('SRV records give servers with their ports and weights, the lowest priority only', async (t) => {
    const a = await startBackend(t, 'a')
    const b = await startBackend(t, 'b')
    const c = await startBackend(t, 'c')
    const port = (address: string) => Number(address.split(':')[1])
    const dns = await startDns(t, {
      '_http._tcp.api.test': {
        srv: [
          { priority: 1, weight: 3, port: port(a.address), target: 'one.test' },
          { priority: 1, weight: 1, port: port(b.address), target: 'one.test' },
          { priority: 2, weight: 1, port: port(c.address), target: 'one.test' },
        ],
      },
      'one.test': { a: ['127.0.0.1'] },
    })
    const config = adminConfig([], 1, { discovery: fast(dns.address) })
    const { call, url } = await startAdminPortico(t, {
      ...config,
      pools: { web: { discover: [{ srv: '_http._tcp.api.test' }] } },
    })
    const pools = await call('GET', '/pools')
    const servers = pools.body[0].servers.map((s: { address: string; weight: number }) => [s.address, s.weight])
    assert.deepEqual(
      servers.sort(),
      [
        [a.address, 3],
        [b.address, 1],
      ].sort(),
    )
    const bodies = new Set<string>()
    for (let i = 0; i < 8; i++) bodies.add((await get(url)).body)
    assert.deepEqual([...bodies].sort(), ['a', 'b'])
  })

  test('a pool follows its servers file: rewritten during traffic, requests move to the new server with none failed, with two workers', async (t) => {
    const a = await startBackend(t, 'a')
    const b = await startBackend(t, 'b')
    const file = writeConfig(`- ${a.address}\n`, 'servers.yaml')
    const p = await spawnPortico(
      t,
      [
        'run',
        '-c',
        writeConfig({
          listeners: [{ address: '127.0.0.1:0' }],
          pools: { web: { discover: [{ file }] } },
          routes: [{ pool: 'web' }],
          discovery: { drain_deadline: '5s' },
          workers: 2,
          access_log: { output: 'off' },
        }),
      ],
      { listeners: 1 },
    )
    const load = traffic(p.urls[0]!)
    t.after(() => load.stop())
    await load.until((body) => body === 'a', 5)
    // Written as other tools do: a new file renamed over the old one.
    const next = join(dirname(file), 'servers.yaml.new')
    writeFileSync(next, `- { address: "${b.address}", weight: 2 }\n`)
    renameSync(next, file)
    await load.until((body) => body === 'b')
    await load.stop()
    assert.deepEqual(load.failed, [])

    // A file that no longer reads keeps the servers it gave, and says why.
    writeFileSync(file, '- not an address\n')
    await p.waitFor(/servers\.yaml\[0\]: expected .*"msg":"discovery source failed, its last known servers stay"/)
    assert.equal((await get(p.urls[0]!)).body, 'b')
  })
})
