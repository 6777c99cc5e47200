import type { Readable } from 'node:stream'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'

/**
 * Whether an attempt that failed with `code` may be tried again on another server, as far as
 * safety goes (USERS #2). Nothing may have reached the client, and a body read in part is gone,
 * so it rules a retry out. A failure before the request reached the backend (`always`) may be
 * retried whatever the method. A reset or timeout (`idempotent`) may be retried only for an
 * idempotent method or a request carrying `Idempotency-Key`: once its head was written, the
 * backend may have acted on the request, even if it never got a byte of its body (#21).
 */
export function mayRetry(x: Exchange, code: FailureCode, body: Readable | Buffer | null): boolean {
  if (x.res.headersSent) return false
  const rule = failures[code].retry
  if (rule === 'never') return false
  if (body !== null && !Buffer.isBuffer(body) && body.readableDidRead) return false
  return rule === 'always' || idempotent(x)
}

/** Whether sending the request twice does no more than sending it once: its method (RFC 9110 §9.2.2), or `Idempotency-Key`. */
export function idempotent(x: Exchange): boolean {
  return idempotentMethods.has(x.req.method ?? '') || x.req.headers['idempotency-key'] !== undefined
}

const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
