import type { Readable } from 'node:stream'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'

/**
 * Whether an attempt that failed with `code` may be tried again on another server, as far as
 * safety goes (USERS #2): a failure before the request reached the backend (`always`) may be
 * retried whatever the method; a reset or timeout (`idempotent`) only for an idempotent method or
 * a request carrying `Idempotency-Key`. Either way the body must not have been read yet, since
 * what was read is gone, and nothing may have reached the client.
 */
export function mayRetry(x: Exchange, code: FailureCode, body: Readable | null): boolean {
  if (x.res.headersSent) return false
  const rule = failures[code].retry
  if (rule === 'never') return false
  if (body?.readableDidRead) return false
  return rule === 'always' || idempotent.has(x.req.method ?? '') || x.req.headers['idempotency-key'] !== undefined
}

// RFC 9110 §9.2.2.
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
