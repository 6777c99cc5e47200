import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Exchange } from '../exchange.ts'

/** Where and how access log lines are written. */
export interface AccessLogSettings {
  /** `stdout`, `stderr`, `off`, or a file path to append to. */
  readonly output: string
  readonly format: 'auto' | 'json' | 'pretty'
}

/** Writes one line per finished exchange. */
export interface AccessLog {
  write(x: Exchange): void
  /** Flushes what is buffered and releases the output. */
  close(): Promise<void>
}

/** Opens the access log that `settings` describe; `pretty` on a terminal when the format is `auto`. */
export function openAccessLog(settings: AccessLogSettings): AccessLog {
  if (settings.output === 'off') return { write() {}, close: async () => {} }
  const stream: Writable =
    settings.output === 'stdout'
      ? process.stdout
      : settings.output === 'stderr'
        ? process.stderr
        : createWriteStream(settings.output, { flags: 'a' })
  const ownsStream = stream !== process.stdout && stream !== process.stderr
  const tty = (stream as { isTTY?: boolean }).isTTY === true
  const pretty = settings.format === 'pretty' || (settings.format === 'auto' && tty)
  const close = () =>
    new Promise<void>((resolve) => {
      if (ownsStream) stream.end(resolve)
      else resolve()
    })
  if (pretty) return { write: (x) => stream.write(prettyLine(x)), close }
  const logger = pino(
    { base: { pid: process.pid }, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime },
    stream,
  )
  return { write: (x) => logger.info(fields(x)), close }
}

/** The access log record of an exchange; the same keys in JSON and in docs/logging. */
export function fields(x: Exchange) {
  return {
    id: x.id,
    client: x.clientAddress,
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
    attempts: x.attempts,
    outcome: x.outcome,
  }
}

function prettyLine(x: Exchange): string {
  const time = new Date().toISOString().slice(11, 23)
  const to = x.server ? ` → ${x.pool?.name}/${x.server.address}` : ''
  const outcome = x.outcome === 'ok' ? '' : ` ${x.outcome}`
  const ms = round(performance.now() - x.start)
  return `${time} ${x.clientAddress} ${x.req.method} ${x.host}${x.path} ${x.status || '-'} ${x.bytesOut}B ${ms}ms${to}${outcome} ${x.id}\n`
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
