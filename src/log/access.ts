import { createWriteStream, openSync } from 'node:fs'
import type { Writable } from 'node:stream'
import type { FailureCode } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { type EventLog, silentEvents } from './events.ts'
import { lazyPino } from './pino.ts'

/** Where and how access log lines are written. */
export interface AccessLogSettings {
  /** `stdout`, `stderr`, `off`, or a file path to append to. */
  readonly output: string
  readonly format: 'auto' | 'json' | 'pretty'
}

/** A request refused before it became an exchange: Node's parser could not read it. */
export interface Rejection {
  readonly id: string
  readonly client: string
  readonly status: number
  readonly outcome: FailureCode
}

/** Writes one line per finished exchange. */
export interface AccessLog {
  write(x: Exchange): void
  /** Writes the line of a request refused before it could be read (400, 408, 431). */
  reject(r: Rejection): void
  /** Flushes what is buffered and releases the output. */
  close(): Promise<void>
}

/**
 * Opens the access log that `settings` describe; `pretty` on a terminal when the format is `auto`.
 * A file that cannot be opened throws here, before anything listens. A later write failure (disk
 * full, closed pipe) is reported once to `events`; it never stops the traffic.
 */
export function openAccessLog(settings: AccessLogSettings, events: EventLog = silentEvents): AccessLog {
  if (settings.output === 'off') return { write() {}, reject() {}, close: async () => {} }
  const stream: Writable =
    settings.output === 'stdout'
      ? process.stdout
      : settings.output === 'stderr'
        ? process.stderr
        : createWriteStream('', { fd: openSync(settings.output, 'a') })
  const ownsStream = stream !== process.stdout && stream !== process.stderr
  // Without a listener, an 'error' on the output would take the whole process down (USERS #3).
  let failed = false
  stream.on('error', (err: Error) => {
    if (!failed) events.error('access log write failed', { output: settings.output, error: err.message })
    failed = true
  })
  const tty = (stream as { isTTY?: boolean }).isTTY === true
  const pretty = settings.format === 'pretty' || (settings.format === 'auto' && tty)
  const close = () =>
    new Promise<void>((resolve) => {
      if (ownsStream) stream.end(resolve)
      else resolve()
    })
  if (pretty) {
    return {
      write: (x) => stream.write(prettyLine(x)),
      reject: (r) => stream.write(`${clock()} ${r.client} - ${r.status} ${r.outcome} ${r.id}\n`),
      close,
    }
  }
  const pino = lazyPino()
  const logger = pino({ base: { pid: process.pid }, messageKey: 'msg', timestamp: isoTime }, stream)
  const batch = batching(stream)
  return {
    write: (x) => {
      batch()
      logger.info(fields(x))
    },
    reject: (r) => {
      batch()
      logger.info(r)
    },
    close,
  }
}

/**
 * Holds the lines written in one turn of the event loop and writes them at its end, together: one
 * write for all the exchanges that ended in that turn, instead of one each (a file write is a
 * request to node's thread pool). Call it before each line.
 */
function batching(stream: Writable): () => void {
  let corked = false
  const flush = () => {
    corked = false
    stream.uncork()
  }
  return () => {
    if (corked) return
    corked = true
    stream.cork()
    setImmediate(flush)
  }
}

// The time field, as pino's isoTime writes it, made once per millisecond rather than once per line.
let lastMs = 0
let lastTime = ''
function isoTime(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastTime = `,"time":"${new Date(now).toISOString()}"`
  }
  return lastTime
}

/** The access log record of an exchange; the same keys in JSON and in docs/logging. */
export function fields(x: Exchange) {
  return {
    id: x.id,
    trace_id: x.trace.traceId,
    span_id: x.trace.spanId,
    client: x.clientAddress,
    country: x.country || undefined,
    method: x.req.method,
    host: x.host,
    path: x.path,
    status: x.status,
    bytes_in: x.bytesIn,
    bytes_out: x.bytesOut,
    duration_ms: round(performance.now() - x.start),
    route: x.route?.name,
    pool: x.pool?.name,
    server: x.server?.address,
    backend_ms: x.backendMs >= 0 ? round(x.backendMs) : undefined,
    backend_held_ms: x.backendHeldMs >= 0 ? round(x.backendHeldMs) : undefined,
    buffered: buffered(x),
    spilled_bytes: x.spilledBytes > 0 ? x.spilledBytes : undefined,
    attempts: x.attempts,
    queue_ms: x.queueMs >= 0 ? round(x.queueMs) : undefined,
    queue_depth: x.queueMs >= 0 ? x.queueDepth : undefined,
    retried: x.retried,
    outcome: x.outcome,
    cache: x.cache || undefined,
    waf: x.waf || undefined,
    tls_version: x.tls?.version,
    tls_cipher: x.tls?.cipher,
    sni: x.tls?.sni || undefined,
    alpn: x.tls?.alpn || undefined,
    client_subject: x.tls?.clientSubject || undefined,
  }
}

function clock(): string {
  return new Date().toISOString().slice(11, 23)
}

/** Which bodies were buffered: `request`, `response`, both, or undefined. */
function buffered(x: Exchange): string | undefined {
  if (x.requestBuffered) return x.responseBuffered ? 'request,response' : 'request'
  return x.responseBuffered ? 'response' : undefined
}

function prettyLine(x: Exchange): string {
  const time = clock()
  const to = x.server ? ` → ${x.pool?.name}/${x.server.address}` : ''
  const outcome = x.outcome === 'ok' ? '' : ` ${x.outcome}`
  const ms = round(performance.now() - x.start)
  const queued = x.queueMs >= 0 ? ` queued ${round(x.queueMs)}ms` : ''
  return `${time} ${x.clientAddress} ${x.req.method} ${x.host}${x.path} ${x.status || '-'} ${x.bytesOut}B ${ms}ms${queued}${to}${outcome} ${x.id}\n`
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
