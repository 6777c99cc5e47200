import type { Logger } from 'pino'
import { lazyPino } from './pino.ts'

/** What Portico says about itself (start, reload, errors), apart from the access log. */
export interface EventLog {
  info(message: string, details?: Record<string, unknown>): void
  warn(message: string, details?: Record<string, unknown>): void
  error(message: string, details?: Record<string, unknown>): void
}

/** Events as JSON lines on stderr, or readable lines when stderr is a terminal. */
export function openEventLog(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): EventLog {
  if (stream.isTTY) {
    const line = (level: string) => (message: string, details?: Record<string, unknown>) => {
      stream.write(`portico ${level}: ${message}${details ? ` ${JSON.stringify(details)}` : ''}\n`)
    }
    return { info: line('info'), warn: line('warn'), error: line('error') }
  }
  let logger: Logger | undefined
  // Made at the first event: most runs log none until they stop.
  const log = () => {
    if (logger) return logger
    const pino = lazyPino()
    logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime }, stream)
    return logger
  }
  return {
    info: (message, details) => log().info(details ?? {}, message),
    warn: (message, details) => log().warn(details ?? {}, message),
    error: (message, details) => log().error(details ?? {}, message),
  }
}

/** An event log that says nothing, for tests and embedding. */
export const silentEvents: EventLog = { info() {}, warn() {}, error() {} }
