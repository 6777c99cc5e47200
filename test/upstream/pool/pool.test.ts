import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FailureCode } from '../../../src/errors.ts'
import type { Exchange } from '../../../src/exchange.ts'
import { SharedState } from '../../../src/instance/shared-state.ts'
import { type EventLog, silentEvents } from '../../../src/log/events.ts'
import type { Balancer } from '../../../src/upstream/balancers/balancer.ts'
import { roundRobin } from '../../../src/upstream/balancers/round-robin.ts'
import { Pool, type PoolSettings, type Ticket } from '../../../src/upstream/pool/pool.ts'
import { RetryBudget } from '../../../src/upstream/retry-budget.ts'
import type { Server } from '../../../src/upstream/server.ts'
import { testExchange, testServers } from '../../helpers/servers.ts'

const base: PoolSettings = {
  hostHeader: undefined,
  timeouts: { connectMs: 1000, responseHeadersMs: 1000, bodyIdleMs: 1000 },
  retries: { attempts: 3, perTryMs: 1000, budget: new RetryBudget(0.2, 10) },
  maxInFlight: 10_000,
  queueLength: 10,
  queueTimeoutMs: 1000,
  retryAfterS: 2,
  slowStartMs: 0,
  joining: [],
  panicThreshold: 0,
  active: undefined,
  unknownTakesTraffic: true,
  outlier: {
    consecutive: 2,
    counts: new Set(['connect']),
    baseEjectionMs: 60_000,
    maxEjectionMs: 60_000,
    maxEjectedShare: 0.5,
  },
}

/** A ticket that records what the pool told it. */
class Recorder implements Ticket {
  readonly x: Exchange = testExchange()
  readonly tried: readonly Server[] | undefined
  started: Server | undefined
  by: Pool | undefined
  failed: [FailureCode, Readonly<Record<string, string>>] | undefined
  constructor(tried?: readonly Server[]) {
    this.tried = tried
  }
  start(server: Server, by: Pool): void {
    this.started = server
    this.by = by
  }
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void {
    this.failed = [code, headers]
  }
}

function pool(servers: Server[], settings: Partial<PoolSettings> = {}, now?: () => number, balancer?: Balancer): Pool {
  return new Pool(
    'web',
    servers,
    balancer ?? roundRobin(servers),
    { ...base, ...settings },
    { events: silentEvents, now },
  )
}

const refused = { ok: false, code: 'backend_refused' } as const

test('a pool never sends a server more than max_conns requests; the rest queue and start as slots free, in order', () => {
  const servers = testServers([1], { maxConns: 2 })
  const p = pool(servers)
  const tickets = Array.from({ length: 5 }, () => new Recorder())
  for (const t of tickets) p.acquire(t)
  assert.deepEqual(
    tickets.map((t) => t.started !== undefined),
    [true, true, false, false, false],
  )
  assert.equal(p.queued, 3)
  assert.equal(tickets[2]!.x.queueDepth, 0)
  assert.equal(tickets[4]!.x.queueDepth, 2)
  p.release(servers[0]!, { ok: true })
  assert.ok(tickets[2]!.started && !tickets[3]!.started)
  assert.ok(tickets[2]!.x.queueMs >= 0)
  p.release(servers[0]!, { ok: true })
  p.release(servers[0]!, { ok: true })
  assert.ok(tickets[3]!.started && tickets[4]!.started)
  assert.equal(servers[0]!.state.inFlight, 2)
})

test('a full queue answers queue_full with Retry-After at once', () => {
  const servers = testServers([1], { maxConns: 1 })
  const p = pool(servers, { queueLength: 1 })
  p.acquire(new Recorder())
  p.acquire(new Recorder())
  const third = new Recorder()
  p.acquire(third)
  assert.deepEqual(third.failed, ['queue_full', { 'retry-after': '2' }])
})

test('max_in_flight caps the whole pool', () => {
  const servers = testServers([1, 1])
  const p = pool(servers, { maxInFlight: 3, queueLength: 0 })
  const tickets = Array.from({ length: 4 }, () => new Recorder())
  for (const t of tickets) p.acquire(t)
  assert.equal(tickets.filter((t) => t.started).length, 3)
  assert.equal(tickets[3]!.failed?.[0], 'queue_full')
})

test('a queued request that waits too long gets queue_timeout', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const servers = testServers([1], { maxConns: 1 })
  const p = pool(servers, { queueTimeoutMs: 500 }, Date.now)
  p.acquire(new Recorder())
  const waiting = new Recorder()
  p.acquire(waiting)
  t.mock.timers.tick(500)
  assert.deepEqual(waiting.failed, ['queue_timeout', { 'retry-after': '2' }])
  assert.equal(waiting.x.queueMs, 500)
  assert.equal(p.queued, 0)
})

test('a queued request whose client leaves is dropped from the queue', () => {
  const servers = testServers([1], { maxConns: 1 })
  const p = pool(servers)
  p.acquire(new Recorder())
  const gone = new Recorder()
  const next = new Recorder()
  p.acquire(gone)
  p.acquire(next)
  gone.x.abort.abort()
  assert.equal(p.queued, 1)
  p.release(servers[0]!, { ok: true })
  assert.ok(next.started && !gone.started)
})

test('a pool with no usable server answers no_server rather than queueing', () => {
  const servers = testServers([1])
  const p = pool(servers)
  p.drain(servers[0]!.address)
  const t = new Recorder()
  p.acquire(t)
  assert.equal(t.failed?.[0], 'no_server')
})

test('a retry goes to a server not yet tried, or back to a tried one when no other is usable', () => {
  const servers = testServers([1, 1])
  const p = pool(servers)
  const x = testExchange()
  for (let i = 0; i < 4; i++) {
    const s = p.pick(x, [servers[0]!])
    assert.equal(s, servers[1])
    p.release(s!, { ok: true })
  }
  p.drain(servers[1]!.address)
  assert.equal(p.pick(x, [servers[0]!]), servers[0])
})

test('draining takes a server out of rotation; removing it takes it out of the pool', () => {
  const servers = testServers([1, 1, 1])
  const forgotten: Server[] = []
  const p = new Pool('web', servers, roundRobin(servers), base, {
    events: silentEvents,
    forget: (s) => forgotten.push(s),
  })
  const x = testExchange()
  const busy = p.pick(x, undefined)!
  assert.equal(p.drain(busy.address), true)
  for (let i = 0; i < 6; i++) {
    const s = p.pick(x, undefined)!
    assert.notEqual(s, busy)
    p.release(s, { ok: true })
  }
  assert.equal(p.remove(busy.address), true)
  assert.deepEqual(
    p.servers,
    servers.filter((s) => s !== busy),
  )
  assert.deepEqual(forgotten, [busy])
  p.release(busy, { ok: true })
  assert.equal(busy.state.inFlight, 0, 'the request in flight to it ended normally')
  assert.equal(p.remove('nowhere:1'), false)
})

test('failures in a row eject a server with the reason kept; max_ejected_share keeps the rest in', () => {
  const servers = testServers([1, 1, 1, 1])
  const p = pool(servers)
  const x = testExchange()
  for (const s of servers) {
    for (let i = 0; i < 2; i++) {
      s.state.inFlight++
      p.release(s, refused)
    }
  }
  const ejected = servers.filter((s) => s.state.ejectedUntil !== 0)
  assert.deepEqual(ejected, servers.slice(0, 2), 'half the pool at most')
  assert.equal(ejected[0]!.state.reason?.source, 'passive')
  assert.match(ejected[0]!.state.reason!.detail, /2 consecutive failures, last backend_refused/)
  assert.equal(ejected[0]!.state.transitions, 1)
  for (let i = 0; i < 10; i++) {
    const s = p.pick(x, undefined)!
    assert.ok(!ejected.includes(s))
    p.release(s, { ok: true })
  }
})

test('panic mode spreads over every server when too few are healthy', () => {
  const servers = testServers([1, 1, 1, 1])
  const p = pool(servers, { panicThreshold: 0.6, outlier: { ...base.outlier, maxEjectedShare: 1 } })
  const x = testExchange()
  for (const s of servers.slice(0, 2)) {
    for (let i = 0; i < 2; i++) {
      s.state.inFlight++
      p.release(s, refused)
    }
  }
  const seen = new Set()
  for (let i = 0; i < 8; i++) {
    const s = p.pick(x, undefined)!
    seen.add(s)
    p.release(s, { ok: true })
  }
  assert.equal(seen.size, 4)
})

test('backup servers take requests only while no primary is healthy', () => {
  const servers = [
    ...testServers([1]),
    ...testServers([1], { backup: true }).map((s) => ({ ...s, address: 'backup:1' })),
  ]
  const p = pool(servers, { outlier: { ...base.outlier, maxEjectedShare: 1 } })
  const x = testExchange()
  for (let i = 0; i < 3; i++) {
    const s = p.pick(x, undefined)!
    assert.equal(s, servers[0])
    p.release(s, { ok: true })
  }
  for (let i = 0; i < 2; i++) {
    servers[0]!.state.inFlight++
    p.release(servers[0]!, refused)
  }
  assert.notEqual(servers[0]!.state.ejectedUntil, 0)
  assert.equal(p.pick(x, undefined), servers[1])
})

test('slow start ramps a server back from a tenth of its share to all of it', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const servers = testServers([1, 1])
  const p = pool(servers, { slowStartMs: 10_000, outlier: { ...base.outlier, baseEjectionMs: 1000 } }, Date.now)
  const x = testExchange()
  const [a, b] = servers as [Server, Server]
  for (let i = 0; i < 2; i++) {
    a.state.inFlight++
    p.release(a, refused)
  }
  t.mock.timers.tick(1000)
  assert.equal(a.state.ejectedUntil, 0, 'back from ejection')
  const share = () => {
    let toA = 0
    for (let i = 0; i < 1000; i++) {
      const s = p.pick(x, undefined)!
      if (s === a) toA++
      p.release(s, { ok: true })
    }
    return toA / 1000
  }
  assert.ok(Math.abs(share() - 0.1 / 1.1) < 0.02)
  t.mock.timers.tick(5000)
  assert.ok(Math.abs(share() - 0.5 / 1.5) < 0.02)
  t.mock.timers.tick(5000)
  assert.equal(share(), 0.5)
  assert.ok(b.state.ramp === 1)
})

test('slow start ramps up a server that joins a running pool', () => {
  const servers = testServers([1, 1])
  let now = 0
  const p = pool(servers, { slowStartMs: 1000, joining: [servers[1]!] }, () => now)
  const x = testExchange()
  const toJoiner = () => {
    let n = 0
    for (let i = 0; i < 1100; i++) {
      const s = p.pick(x, undefined)!
      if (s === servers[1]) n++
      p.release(s, { ok: true })
    }
    return n
  }
  assert.equal(toJoiner(), 100)
  now = 1000
  assert.equal(toJoiner(), 550)
})

test('with active checks, unchecked servers take no traffic and a pool still starting up does not panic', (t) => {
  const servers = testServers([1, 1, 1])
  const active = { intervalMs: 60_000, timeoutMs: 1000, rise: 1, fall: 1, http: undefined }
  const p = pool(servers, { active, unknownTakesTraffic: false, panicThreshold: 0.5 })
  t.after(() => p.stop())
  const [a, b, c] = servers as [Server, Server, Server]
  const x = testExchange()
  const spread = () => {
    const seen = new Set<Server>()
    for (let i = 0; i < 6; i++) {
      const s = p.pick(x, undefined)
      if (s) {
        seen.add(s)
        p.release(s, { ok: true })
      }
    }
    return seen
  }
  assert.deepEqual(spread(), new Set())
  p.onProbe(a, undefined)
  p.onProbe(b, 'ECONNREFUSED')
  assert.deepEqual(spread(), new Set([a]), 'c is unchecked, so no panic yet')
  assert.deepEqual(
    [b.state.health, b.state.reason?.source, b.state.reason?.detail],
    ['unhealthy', 'active', 'ECONNREFUSED'],
  )
  p.onProbe(c, 'timeout')
  assert.deepEqual(spread(), new Set([a, b, c]), 'one healthy of three is below 0.5: panic')
})

test('a reload hands queued requests to the new pool, which starts them when the old pool frees a slot', () => {
  const servers = testServers([1], { maxConns: 1 })
  const old = pool(servers)
  old.acquire(new Recorder())
  const waiting = new Recorder()
  old.acquire(waiting)
  const next = pool(servers)
  old.stop(next)
  assert.equal(old.queued, 0)
  assert.equal(next.queued, 1)
  old.release(servers[0]!, { ok: true })
  assert.equal(waiting.started, servers[0])
  assert.equal(waiting.by, next)
  assert.equal(next.inFlight, 1)
})

test('a server back from ejection but still failing its checks keeps the reason it is out for', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const servers = testServers([1, 1])
  const active = { intervalMs: 60_000, timeoutMs: 1000, rise: 1, fall: 1, http: undefined }
  const p = pool(servers, { active, outlier: { ...base.outlier, baseEjectionMs: 1000 } }, Date.now)
  t.after(() => p.stop())
  const [a] = servers as [Server]
  p.onProbe(a, undefined)
  for (let i = 0; i < 2; i++) {
    a.state.inFlight++
    p.release(a, refused)
  }
  p.onProbe(a, 'ECONNREFUSED')
  t.mock.timers.tick(1000)
  assert.equal(a.state.ejectedUntil, 0)
  assert.deepEqual([a.state.reason?.source, a.state.reason?.detail], ['active', 'ECONNREFUSED'])
  assert.equal(a.state.transitions, 4, 'healthy, ejected, unhealthy, back from ejection')
})

/** Two processes' shared state, joined as the primary would join them: the leader's sets reach the other. */
function twoProcesses(): [SharedState, SharedState] {
  const leader = new SharedState()
  const other = new SharedState()
  leader.join(true, (key, value) => other.receive(key, value))
  other.join(false, (key, value) => leader.receive(key, value))
  return [leader, other]
}

/** An event log that keeps the messages it is told. */
function recordingEvents(): EventLog & { messages: string[] } {
  const messages: string[] = []
  const keep = (message: string) => void messages.push(message)
  return { messages, info: keep, warn: keep, error: keep }
}

test("the leader's check verdicts reach the pool of every process, which all stop sending to a failing server", (t) => {
  const [leaderState, otherState] = twoProcesses()
  const active = { intervalMs: 60_000, timeoutMs: 1000, rise: 2, fall: 1, http: undefined }
  const settings = { ...base, active, unknownTakesTraffic: false }
  const leaderServers = testServers([1, 1])
  const otherServers = testServers([1, 1])
  const leaderEvents = recordingEvents()
  const otherEvents = recordingEvents()
  const leader = new Pool('web', leaderServers, roundRobin(leaderServers), settings, {
    events: leaderEvents,
    shared: leaderState,
  })
  const other = new Pool('web', otherServers, roundRobin(otherServers), settings, {
    events: otherEvents,
    shared: otherState,
  })
  t.after(() => {
    leader.stop()
    other.stop()
  })
  const picked = (p: Pool) => {
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const s = p.pick(testExchange(), undefined)
      if (s) {
        seen.add(s.address)
        p.release(s, { ok: true })
      }
    }
    return [...seen].sort()
  }
  const [a, b] = leaderServers as [Server, Server]
  assert.deepEqual(picked(other), [], 'unchecked servers take no traffic anywhere')
  leader.onProbe(a, undefined)
  leader.onProbe(b, undefined)
  assert.deepEqual(
    [picked(leader), picked(other)],
    [
      ['a:10000', 'b:10001'],
      ['a:10000', 'b:10001'],
    ],
  )
  leader.onProbe(a, 'status 503')
  assert.deepEqual([picked(leader), picked(other)], [['b:10001'], ['b:10001']])
  assert.deepEqual(
    [otherServers[0]!.state.health, otherServers[0]!.state.reason?.source, otherServers[0]!.state.reason?.detail],
    ['unhealthy', 'active', 'status 503'],
  )
  leader.onProbe(a, undefined)
  assert.deepEqual(picked(other), ['b:10001'], 'rise 2: one pass is not enough, in any process')
  leader.onProbe(a, undefined)
  assert.deepEqual(picked(other), ['a:10000', 'b:10001'])
  assert.deepEqual(leaderEvents.messages, ['server healthy', 'server healthy', 'server unhealthy', 'server healthy'])
  assert.deepEqual(otherEvents.messages, [], 'the change is logged once, by the leader')
})

test('a pool built after the leader shared its verdicts starts from them, and forgets a removed server', (t) => {
  const [leaderState, otherState] = twoProcesses()
  const active = { intervalMs: 60_000, timeoutMs: 1000, rise: 1, fall: 1, http: undefined }
  const settings = { ...base, active, unknownTakesTraffic: false }
  const leaderServers = testServers([1, 1])
  const leader = new Pool('web', leaderServers, roundRobin(leaderServers), settings, {
    events: silentEvents,
    shared: leaderState,
  })
  t.after(() => leader.stop())
  leader.onProbe(leaderServers[0]!, undefined)
  leader.onProbe(leaderServers[1]!, 'ECONNREFUSED')
  const late = testServers([1, 1])
  const other = new Pool('web', late, roundRobin(late), settings, { events: silentEvents, shared: otherState })
  t.after(() => other.stop())
  assert.deepEqual(
    late.map((s) => s.state.health),
    ['healthy', 'unhealthy'],
  )
  const events = recordingEvents()
  const fresh = testServers([1, 1])
  const rebuilt = new Pool('web', fresh, roundRobin(fresh), settings, { events, shared: leaderState })
  t.after(() => rebuilt.stop())
  assert.deepEqual(
    fresh.map((s) => s.state.health),
    ['healthy', 'unhealthy'],
  )
  assert.deepEqual(events.messages, [], 'a new leader does not log again the verdicts it takes over')
  leader.remove(leaderServers[1]!.address)
  assert.equal(otherState.get(`health/web/${leaderServers[1]!.address}`), undefined)
})

test('undrain puts a drained server back into rotation, and starts a request queued meanwhile', () => {
  const servers = testServers([1], { maxConns: 1 })
  const p = pool(servers)
  const [a] = servers as [Server]
  assert.equal(p.drain(a.address), true)
  const waiting = new Recorder()
  p.acquire(waiting)
  assert.deepEqual(waiting.failed?.[0], 'no_server', 'a pool whose only server drains has none to offer')
  const queued = new Recorder()
  const busy = new Recorder()
  assert.equal(p.undrain(a.address), true)
  p.acquire(busy)
  p.acquire(queued)
  assert.equal(busy.started, a)
  assert.equal(p.queued, 1)
  p.drain(a.address)
  p.undrain(a.address)
  p.release(a, { ok: true })
  assert.equal(queued.started, a)
  assert.deepEqual([a.state.draining, a.state.reason?.source, a.state.reason?.detail], [false, 'admin', 'drain ended'])
  assert.equal(p.undrain('nowhere:1'), false)
})

test('a passing active check ends a passive ejection at once, in every process (#21)', (t) => {
  const [leaderState, otherState] = twoProcesses()
  const active = { intervalMs: 60_000, timeoutMs: 1000, rise: 1, fall: 1, http: undefined }
  const settings = { ...base, active, outlier: { ...base.outlier, maxEjectedShare: 1 } }
  const leaderServers = testServers([1, 1])
  const otherServers = testServers([1, 1])
  const leader = new Pool('web', leaderServers, roundRobin(leaderServers), settings, {
    events: silentEvents,
    shared: leaderState,
  })
  const other = new Pool('web', otherServers, roundRobin(otherServers), settings, {
    events: silentEvents,
    shared: otherState,
  })
  t.after(() => {
    leader.stop()
    other.stop()
  })
  leader.onProbe(leaderServers[0]!, undefined)
  leader.onProbe(leaderServers[1]!, undefined)
  // The other process alone sees a's requests fail, and ejects it for a minute.
  const a = otherServers[0]!
  for (let i = 0; i < 2; i++) {
    a.state.inFlight++
    other.release(a, refused)
  }
  assert.notEqual(a.state.ejectedUntil, 0)
  assert.equal(other.pick(testExchange(), undefined)?.address, 'b:10001')
  leader.onProbe(leaderServers[0]!, undefined)
  assert.equal(a.state.ejectedUntil, 0)
  assert.equal(a.state.consecutiveFailures, 0)
  assert.equal(other.pick(testExchange(), undefined), a)
})

test('a healthy backup keeps a pool out of panic, and takes a retry once every usable primary was tried (#21)', () => {
  const servers = [
    ...testServers([1, 1, 1]),
    ...testServers([1], { backup: true }).map((s) => ({ ...s, address: 'backup:1' })),
  ]
  const [a, b, c, backup] = servers as [Server, Server, Server, Server]
  // Passive detection may eject one server of four: b is out, c is down but still in.
  const p = pool(servers, { panicThreshold: 0.9, outlier: { ...base.outlier, maxEjectedShare: 0.25 } })
  for (const s of [b, c]) {
    for (let i = 0; i < 2; i++) {
      s.state.inFlight++
      p.release(s, refused)
    }
  }
  assert.notEqual(b.state.ejectedUntil, 0)
  assert.equal(c.state.ejectedUntil, 0)
  const x = testExchange()
  const seen = new Set<Server>()
  for (let i = 0; i < 6; i++) {
    const s = p.pick(x, undefined)!
    seen.add(s)
    p.release(s, { ok: true })
  }
  assert.deepEqual(seen, new Set([a, c]), 'no panic: the ejected server b takes nothing')
  const retry = p.pick(x, [a, c])
  assert.equal(retry, backup)
})
