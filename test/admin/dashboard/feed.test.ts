import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Control } from '../../../src/admin/control.ts'
import { Feed, type Snapshot } from '../../../src/admin/dashboard/feed.ts'
import type { PoolView, ServerView } from '../../../src/admin/live-state.ts'
import type { CounterTotal } from '../../../src/metrics/totals.ts'

const server = (address: string, out: Partial<ServerView> = {}): ServerView => ({
  address,
  weight: 1,
  backup: false,
  max_conns: 0,
  health: 'unknown',
  out: false,
  reason: null,
  in_flight: 0,
  ejected: false,
  ejections: 0,
  draining: false,
  empty: false,
  connections: { active: 0, waiting: 0 },
  latency_ewma_ms: 0,
  ...out,
})

/** An instance whose counters grow by 10 requests (one a 5xx) at each reading, with pool `web`. */
function instance() {
  let requests = 0
  let pools: PoolView[] = [{ name: 'web', balancer: 'round_robin', in_flight: 0, queued: 0, servers: [server('a:1')] }]
  let readings = 0
  const control = {
    state: async () => ({ version: 1, workers: [1, 2], listeners: [], routes: [], pools, certificates: [] }),
    config: () => ({
      version: 1,
      portico_version: '0',
      loaded_at: new Date(0).toISOString(),
      file: null,
      changes: [],
      last_reload_error: null,
      config: {},
    }),
  } as unknown as Pick<Control, 'state' | 'config'>
  const counters = async (): Promise<CounterTotal[]> => {
    readings++
    requests += 10
    const at = { route: 'r', pool: 'web', server: 'a:1', method: 'GET' }
    return [
      { name: 'portico_requests_total', labels: { ...at, status_class: '2xx' }, value: requests - requests / 10 },
      { name: 'portico_requests_total', labels: { ...at, status_class: '5xx' }, value: requests / 10 },
    ]
  }
  return {
    control,
    counters,
    readings: () => readings,
    setPools: (p: PoolView[]) => {
      pools = p
    },
  }
}

/** Resolves with the first `n` snapshots `feed` sends one watcher, then stops watching. */
function take(feed: Feed, n: number): Promise<Snapshot[]> {
  const got: Snapshot[] = []
  return new Promise((resolve) => {
    const stop = feed.watch((s) => {
      got.push(s)
      if (got.length === n) {
        stop()
        resolve(got)
      }
    })
  })
}

test('a watcher gets a snapshot at once with the history, then one a second with the newest traffic point', async () => {
  const i = instance()
  const feed = new Feed({ control: i.control, counters: i.counters, metrics: () => true })
  const [first, second, third] = await take(feed, 3)
  assert.deepEqual(first!.history, [])
  assert.equal(first!.point, null)
  assert.equal(second!.history, undefined)
  assert.equal(second!.point!.error_rate, 0.1)
  assert.ok(second!.point!.rps > 0)
  assert.ok(third!.requests > second!.requests)
  assert.deepEqual(
    first!.pools.map((p) => p.name),
    ['web'],
  )
  // A later watcher starts from the points gathered so far.
  const [later] = await take(feed, 1)
  assert.equal(later!.history!.length, 2)
})

test('the feed reads the instance once a second while watched, for every page at once, and stops when its last watcher leaves', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] })
  const i = instance()
  let clock = 0
  const feed = new Feed({ control: i.control, counters: i.counters, metrics: () => true, now: () => clock })
  const got: Snapshot[] = []
  const stop = feed.watch((s) => got.push(s))
  await settled()
  assert.equal(i.readings(), 1)
  for (let second = 1; second <= 3; second++) {
    clock += 1000
    t.mock.timers.tick(1000)
    await settled()
  }
  assert.equal(i.readings(), 4)
  assert.equal(got.length, 4)
  // A second page gets the newest snapshot with the history, from no reading of its own.
  const other: Snapshot[] = []
  const stopOther = feed.watch((s) => other.push(s))
  await settled()
  assert.equal(i.readings(), 4)
  assert.equal(other[0]!.at, got[3]!.at)
  assert.equal(other[0]!.history!.length, 3)
  stopOther()
  stop()
  t.mock.timers.tick(60_000)
  await settled()
  assert.equal(i.readings(), 4)
})

/** Lets the promises a timer started run to their end. */
function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

test('recent errors list 5xx answers by server and a server that went out, newest first; a drain is not one', async () => {
  const i = instance()
  const feed = new Feed({ control: i.control, counters: i.counters, metrics: () => true })
  const [, second] = await take(feed, 2)
  assert.deepEqual(
    second!.errors.map((e) => [e.kind, e.text]),
    [['5xx', '1 × 5xx on route r by web a:1']],
  )
  i.setPools([
    {
      name: 'web',
      balancer: 'round_robin',
      in_flight: 0,
      queued: 0,
      servers: [
        server('a:1', {
          out: true,
          health: 'unhealthy',
          reason: { source: 'active', detail: 'ECONNREFUSED', since: new Date().toISOString() },
        }),
        server('b:1', { out: true, draining: true, reason: { source: 'admin', detail: 'draining', since: '' } }),
      ],
    },
  ])
  const [third] = await take(feed, 1)
  // The 5xx of this reading add to the line of the last one, which comes up first.
  assert.deepEqual(
    third!.errors.map((e) => [e.kind, e.count]),
    [
      ['server out', 1],
      ['5xx', 2],
    ],
  )
  assert.equal(third!.errors[1]!.text, '2 × 5xx on route r by web a:1')
  assert.equal(third!.errors[1]!.since, second!.errors[0]!.since)
  assert.match(third!.errors[0]!.text, /^web a:1 out \(active: ECONNREFUSED\)$/)
  assert.ok(!third!.errors.some((e) => e.text.includes('b:1')))
})
