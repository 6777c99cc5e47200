import type { Readable } from 'node:stream'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'

/**
 * Whether an attempt that failed with `code` may be tried again on another server, as far as
 * safety goes (USERS #2). Nothing may have reached the client, and a body read in part is gone,
 * so it rules a retry out. A failure before the request reached the backend (`always`) may be
 * retried whatever the method. A reset or timeout (`idempotent`) may be retried for an idempotent
 * method, a request carrying `Idempotency-Key`, or a request whose body the backend never got a
 * byte of: it cannot have acted on a request it did not receive whole.
 */
export function mayRetry(x: Exchange, code: FailureCode, body: Readable | Buffer | null): boolean {
  if (x.res.headersSent) return false
  const rule = failures[code].retry
  if (rule === 'never') return false
  if (body !== null && !Buffer.isBuffer(body) && body.readableDidRead) return false
  if (rule === 'always' || body !== null) return true
  return idempotent.has(x.req.method ?? '') || x.req.headers['idempotency-key'] !== undefined
}

// RFC 9110 §9.2.2.
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
