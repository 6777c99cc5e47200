import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Exchange } from '../exchange.ts'
import type { AccessLog } from '../log/access.ts'
import type { EventLog } from '../log/events.ts'
import type { TracingConfig } from './schema.ts'

type OtlpSettings = NonNullable<TracingConfig['otlp']>

type Attribute = { key: string; value: { stringValue: string } | { intValue: string } }

/** One span in OTLP JSON (ids as hex, times as decimal strings of nanoseconds). */
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: 2
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Attribute[]
  status: { code: 1 | 2 }
}

/**
 * Posts a SERVER span for each sampled exchange to an OTLP/HTTP collector, as JSON, in batches of
 * `batch_size` or every `interval`, one post at a time. A collector that fails or is away costs
 * only the spans beyond `max_queued`, dropped and logged once per outage; traffic never waits.
 */
export class OtlpExporter {
  readonly #settings: OtlpSettings
  readonly #events: EventLog
  readonly #resource: { attributes: Attribute[] }
  #queue: OtlpSpan[] = []
  #timer: NodeJS.Timeout | undefined
  #posting: Promise<void> | undefined
  #dropped = 0
  #failing = false

  constructor(settings: OtlpSettings, events: EventLog) {
    this.#settings = settings
    this.#events = events
    this.#resource = {
      attributes: [
        { key: 'service.name', value: { stringValue: settings.service_name } },
        { key: 'process.pid', value: { intValue: String(process.pid) } },
      ],
    }
  }

  /** Ends the exchange's span, when its trace is sampled; called once the exchange is over. */
  add(x: Exchange): void {
    const trace = x.trace
    if ((Number.parseInt(trace.flags, 16) & 1) === 0) return
    if (this.#queue.length >= this.#settings.max_queued) {
      this.#dropped++
      return
    }
    this.#queue.push(span(x))
    if (this.#queue.length >= this.#settings.batch_size) void this.#flush()
    else this.#timer ??= setTimeout(() => void this.#flush(), this.#settings.interval).unref()
  }

  /** Posts what is queued and waits for the posts under way. */
  async close(): Promise<void> {
    while (this.#posting || this.#queue.length > 0) await (this.#posting ?? this.#flush())
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#posting) return this.#posting
    const spans = this.#queue.splice(0, this.#settings.batch_size)
    if (spans.length === 0) return
    this.#posting = this.#post(spans).finally(() => {
      this.#posting = undefined
      if (this.#queue.length > 0) this.#timer ??= setTimeout(() => void this.#flush(), 0).unref()
    })
    return this.#posting
  }

  async #post(spans: OtlpSpan[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [{ resource: this.#resource, scopeSpans: [{ scope: { name: 'portico' }, spans }] }],
    })
    try {
      const status = await post(this.#settings.url, body)
      if (status < 200 || status > 299) throw new Error(`the collector answered ${status}`)
      if (this.#failing) this.#events.info('span export works again', { url: this.#settings.url })
      this.#failing = false
    } catch (err) {
      if (!this.#failing)
        this.#events.warn('span export failed; spans are dropped until it works', {
          url: this.#settings.url,
          error: (err as Error).message,
        })
      this.#failing = true
      this.#dropped += spans.length
    }
    if (this.#dropped > 0 && !this.#failing) {
      this.#events.warn('spans dropped: the export queue was full', { dropped: this.#dropped })
      this.#dropped = 0
    }
  }
}

/** `log` that also ends each exchange's span in `exporter`: the one place every exchange ends. */
export function withSpans(log: AccessLog, exporter: OtlpExporter): AccessLog {
  return {
    write(x) {
      exporter.add(x)
      log.write(x)
    },
    reject: (r) => log.reject(r),
    close: async () => {
      await exporter.close()
      await log.close()
    },
  }
}

function span(x: Exchange): OtlpSpan {
  const t = x.trace
  const startMs = performance.timeOrigin + x.start
  const attributes: Attribute[] = [
    str('http.request.method', x.req.method ?? ''),
    str('url.path', x.path),
    str('server.address', x.host),
    str('client.address', x.clientAddress),
    { key: 'http.response.status_code', value: { intValue: String(x.status) } },
    str('portico.request_id', x.id),
    str('portico.outcome', x.outcome),
  ]
  if (x.route) attributes.push(str('http.route', x.route.name))
  if (x.pool) attributes.push(str('portico.pool', x.pool.name))
  if (x.server) attributes.push(str('portico.server', x.server.address))
  return {
    traceId: t.traceId,
    spanId: t.spanId,
    ...(t.parentId ? { parentSpanId: t.parentId } : {}),
    name: x.route ? `${x.req.method} ${x.route.name}` : `${x.req.method}`,
    kind: 2,
    startTimeUnixNano: nanos(startMs),
    endTimeUnixNano: nanos(Date.now()),
    attributes,
    status: { code: x.outcome === 'ok' && x.status < 500 ? 1 : 2 },
  }
}

function str(key: string, value: string): Attribute {
  return { key, value: { stringValue: value } }
}

/** Milliseconds since the epoch as a decimal string of nanoseconds. */
function nanos(ms: number): string {
  return (BigInt(Math.floor(ms * 1000)) * 1000n).toString()
}

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(body)
  })
}
