import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** Portico in front of a backend that answers with the trace headers it received, as JSON. */
async function tracedProxy(t: test.TestContext, tracing: object = {}) {
  const backend = await startBackend(t, 'a', (req, res) => {
    const { traceparent, tracestate } = req.headers as IncomingHttpHeaders & Record<string, string>
    res.end(JSON.stringify({ traceparent, tracestate }))
  })
  const log = accessLogFile(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ match: { path: '/local' }, respond: { status: 204 } }, { pool: 'web' }],
    access_log: { output: log, format: 'json' },
    tracing,
  })
  const seen = async (headers: Record<string, string> = {}) => {
    const reply = await get(`${proxy.url}/x`, headers)
    return JSON.parse(reply.body) as { traceparent?: string; tracestate?: string }
  }
  return { proxy, log, seen }
}

test('a request without traceparent reaches the backend with a new trace, and the access log has its trace id', async (t) => {
  const { proxy, log, seen } = await tracedProxy(t)
  const first = await seen()
  const second = await seen()
  const [, traceId, spanId, flags] = traceparentPattern.exec(first.traceparent ?? '') ?? []
  assert.ok(traceId, `a traceparent: ${first.traceparent}`)
  assert.equal(flags, '00', 'not sampled: Portico records nothing by default')
  assert.notEqual(traceparentPattern.exec(second.traceparent!)![1], traceId, 'each request its own trace')
  assert.equal(first.tracestate, undefined)
  await get(`${proxy.url}/local`)
  const records = await readLogRecords(proxy, log)
  assert.equal(records[0]!.trace_id, traceId)
  assert.equal(records[0]!.span_id, spanId)
  assert.match(records[2]!.trace_id, /^[0-9a-f]{32}$/, 'local answers are traced too')
})

test("a request's traceparent keeps its trace id and flags, gets Portico's span as parent, and keeps its tracestate", async (t) => {
  const { proxy, log, seen } = await tracedProxy(t)
  const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const got = await seen({ traceparent: given, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' })
  const [, traceId, parentId, flags] = traceparentPattern.exec(got.traceparent ?? '') ?? []
  assert.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
  assert.notEqual(parentId, '00f067aa0ba902b7', 'a new span id for this hop')
  assert.equal(flags, '01', 'sampled flag kept')
  assert.equal(got.tracestate, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')
  const unsampled = await seen({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' })
  assert.match(unsampled.traceparent!, /-00$/)
  const [record] = await readLogRecords(proxy, log)
  assert.equal(record!.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736')
  assert.equal(record!.span_id, parentId)
})

test('a malformed traceparent is replaced by a new trace, and its tracestate dropped', async (t) => {
  const { seen } = await tracedProxy(t, { sample_ratio: 1 })
  const malformed = [
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    'nonsense',
  ]
  for (const traceparent of malformed) {
    const got = await seen({ traceparent, tracestate: 'congo=t61rcWkgMzE' })
    const m = traceparentPattern.exec(got.traceparent ?? '')
    assert.ok(m, `a valid traceparent instead of ${traceparent}: ${got.traceparent}`)
    assert.notEqual(m[1], '4bf92f3577b34da6a3ce929d0e0e4736', traceparent)
    assert.equal(m[3], '01', 'sample_ratio 1 samples every new trace')
    assert.equal(got.tracestate, undefined, traceparent)
  }
  // A later version may carry more after the flags: its trace is kept, sent on as version 00.
  const later = await seen({ traceparent: 'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever' })
  assert.match(later.traceparent!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
})

test('sampled exchanges are exported as OTLP/HTTP JSON spans in batches; unsampled ones are not', async (t) => {
  type Span = {
    traceId: string
    spanId: string
    parentSpanId?: string
    name: string
    kind: number
    attributes: { key: string }[]
  }
  const spans: Span[] = []
  const posts: number[] = []
  const arrived = new EventEmitter()
  const collector = await startBackend(t, 'collector', (req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c))
    req.on('end', () => {
      assert.equal(req.headers['content-type'], 'application/json')
      const got = JSON.parse(body).resourceSpans[0].scopeSpans[0].spans as Span[]
      posts.push(got.length)
      spans.push(...got)
      res.end('{}')
      arrived.emit('spans')
    })
  })
  const { seen } = await tracedProxy(t, {
    otlp: { url: `http://${collector.address}/v1/traces`, batch_size: 2, interval: '100ms' },
  })
  const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const continued = await seen({ traceparent: given })
  await seen({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' })
  const started = await seen()
  while (spans.length < 2) await once(arrived, 'spans')
  assert.equal(spans.length, 2, 'the unsampled exchange is not exported')
  assert.deepEqual(posts, [2], 'one batch of batch_size')
  const byTrace = new Map(spans.map((s) => [s.traceId, s]))
  const first = byTrace.get('4bf92f3577b34da6a3ce929d0e0e4736')!
  assert.equal(first.parentSpanId, '00f067aa0ba902b7')
  assert.equal(`00-${first.traceId}-${first.spanId}-01`, continued.traceparent)
  assert.equal(first.kind, 2)
  assert.equal(first.name, 'GET route1')
  const [, newTrace, newSpan] = traceparentPattern.exec(started.traceparent!)!
  assert.equal(byTrace.get(newTrace!)?.spanId, newSpan, 'a trace Portico starts is sampled when it exports')
  assert.equal(byTrace.get(newTrace!)?.parentSpanId, undefined)
  assert.ok(first.attributes.some((a) => a.key === 'http.response.status_code'))
})
