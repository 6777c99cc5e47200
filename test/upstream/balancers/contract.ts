import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Exchange } from '../../../src/exchange.ts'
import type { BalancerFactory, BalancerOptions } from '../../../src/upstream/balancers/balancer.ts'
import type { Server } from '../../../src/upstream/server.ts'
import { seededRandom, testExchange, testServers } from '../../helpers/servers.ts'

/** Options every balancer can be built with in the contract: hashing on `x-user`, a fixed sticky key. */
export function contractOptions(seed = 1): BalancerOptions {
  return {
    pool: 'web',
    hashKey: { from: 'header', name: 'x-user' },
    sticky: { cookie: 'portico_server', secret: 'contract-secret-0123456789', maxAgeS: undefined },
    fallback: undefined,
    random: seededRandom(seed),
  }
}

/** The i-th of many different clients: its own address, path and `x-user`. */
function client(i: number): Exchange {
  return testExchange({
    clientAddress: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
    path: `/p/${i}`,
    headers: { 'x-user': `u${i}` },
  })
}

/**
 * The Balancer contract (STYLE.md): never an unusable server, undefined when none is usable,
 * shares in proportion to weight, and a retry never lands on the server it excludes.
 */
export function balancerContract(name: string, factory: BalancerFactory): void {
  test(`${name} never chooses a server the pool rules out`, () => {
    const servers = testServers([1, 1, 1, 1])
    const b = factory(servers, contractOptions())
    const out = new Set([servers[1], servers[3]])
    for (let i = 0; i < 2000; i++) {
      const s = b.pick(client(i), (c) => !out.has(c))
      assert.ok(s && !out.has(s), `pick ${i} chose ${s?.address}`)
    }
  })

  test(`${name} chooses nothing when no server is usable`, () => {
    const servers = testServers([1, 2, 3])
    const b = factory(servers, contractOptions())
    for (let i = 0; i < 100; i++)
      assert.equal(
        b.pick(client(i), () => false),
        undefined,
      )
  })

  test(`${name} gives each server a share in proportion to its weight`, () => {
    const servers = testServers([3, 1, 1])
    const b = factory(servers, contractOptions())
    const counts = new Map<Server, number>()
    // Ten requests stay in flight, the oldest ending first: steady load as the pool would see it.
    const window: Server[] = []
    const picks = 10_000
    for (let i = 0; i < picks; i++) {
      const s = b.pick(client(i), () => true)!
      s.state.inFlight++
      window.push(s)
      counts.set(s, (counts.get(s) ?? 0) + 1)
      if (window.length === 10) {
        const done = window.shift()!
        done.state.inFlight--
        b.release?.(done, { ok: true, latencyMs: 5 })
      }
    }
    const shares = servers.map((s) => (counts.get(s) ?? 0) / picks)
    for (const [i, want] of [0.6, 0.2, 0.2].entries()) {
      assert.ok(Math.abs(shares[i]! - want) < 0.06, `server ${i} got ${shares[i]!.toFixed(3)}, expected about ${want}`)
    }
  })

  test(`${name} gives a server of weight 0 nothing`, () => {
    const servers = testServers([1, 0, 1])
    const b = factory(servers, contractOptions())
    for (let i = 0; i < 1000; i++)
      assert.notEqual(
        b.pick(client(i), () => true),
        servers[1],
      )
  })

  test(`${name} never repeats the tried server on a retry`, () => {
    const servers = testServers([1, 1, 1])
    const b = factory(servers, contractOptions())
    for (let i = 0; i < 1000; i++) {
      const x = client(i)
      const first = b.pick(x, () => true)!
      const second = b.pick(x, (c) => c !== first)
      assert.ok(second && second !== first, `retry ${i} went back to ${first.address}`)
    }
  })

  test(`${name} follows update(): removed servers are no longer chosen, added ones are`, () => {
    const servers = testServers([1, 1, 1, 1])
    const b = factory(servers, contractOptions())
    const next = [servers[0]!, servers[2]!, servers[3]!]
    b.update?.(next)
    const seen = new Set<Server>()
    for (let i = 0; i < 1000; i++) seen.add(b.pick(client(i), () => true)!)
    assert.ok(!seen.has(servers[1]!))
    assert.equal(seen.size, 3)
  })
}
