import type { Readable } from 'node:stream'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import type { Pool } from './pool/pool.ts'
import type { Server } from './server.ts'

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

/**
 * The one retry decision of requests and tunnels alike: whether an attempt that failed with
 * `code`, having tried `tried`, is tried again, and at what cost. Undefined when it is not; false
 * when the retry is free; true when the retry budget must allow it first. `wentDown` says the
 * failed attempt was one of several a server dropped unanswered as it went down
 * (`ServerState.attemptEnded`).
 */
export function retryCharge(
  x: Exchange,
  code: FailureCode,
  body: Readable | Buffer | null,
  pool: Pool,
  tried: readonly Server[],
  wentDown = false,
): boolean | undefined {
  const charged = retryCost(x, code, pool, tried, wentDown)
  return charged !== undefined && mayRetry(x, code, body) ? charged : undefined
}

/**
 * Whether another attempt may be made as far as counts go, and what it costs: undefined when
 * none may, false when it is free, true when the retry budget must allow it. A request that
 * never reached a server (refused, connect timeout, TLS failure, stale before its first byte
 * was written) is free of the budget. A refused connection, which fails at once, is also tried
 * past `attempts` while some server is still untried, so that dead servers alone never cost a
 * client its answer. Any other retry counts against `attempts` and the budget; a stale
 * connection's retry is free, as it goes on a fresh connection, which cannot be stale again.
 * So is, within `attempts`, the retry of a request a server dropped as it went down with others
 * in flight (#21): it moves the dead server's load to the others and adds none, and a server
 * holding more than the budget's share of the requests in flight must not cost them answers.
 * The first request a server drops is charged: it may be a request that breaks every server.
 */
function retryCost(
  x: Exchange,
  code: FailureCode,
  pool: Pool,
  tried: readonly Server[],
  wentDown: boolean,
): boolean | undefined {
  const free = code === 'stale_connection' || failures[code].retry === 'always' || wentDown
  if (x.attempts < pool.retries.attempts) return !free
  if (code === 'stale_connection') return false
  return code === 'backend_refused' && tried.length < pool.servers.length ? false : undefined
}
