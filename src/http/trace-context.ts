import { randomFillSync } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/**
 * An exchange's place in a W3C trace (Trace Context, https://www.w3.org/TR/trace-context/): the
 * trace it belongs to, the caller's span, Portico's own span for this hop, the flags and the
 * vendors' `tracestate`.
 */
export interface TraceContext {
  /** 32 lower-case hex digits. */
  readonly traceId: string
  /** The caller's span (the parent-id it sent); undefined when Portico started the trace. */
  readonly parentId: string | undefined
  /** Portico's span for this hop, 16 hex digits: the parent-id the backend receives. */
  readonly spanId: string
  /** Two hex digits; bit 0 is `sampled`. */
  readonly flags: string
  /** The `tracestate` received with a valid `traceparent`, passed on unchanged; undefined when none. */
  readonly state: string | undefined
}

/** How Portico starts a trace a request did not carry. */
export const traceSettings = {
  /**
   * The share of new traces flagged sampled, 0 to 1: set from the config each time it loads
   * (`tracing.sample_ratio`). Process-wide, as the request id's prefix is.
   */
  sampleRatio: 0,
}

const parentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const zeros32 = '0'.repeat(32)
const zeros16 = '0'.repeat(16)
/** Longest `tracestate` passed on; a longer one is dropped (the specification allows it). */
const maxStateLength = 8192

/**
 * The trace context of a request: its `traceparent` continued with a new span id, its flags and
 * `tracestate` kept; or, when it has none, several, or a malformed one, a new trace (any
 * `tracestate` then dropped, as it belongs to the trace refused).
 */
export function traceContext(headers: IncomingHttpHeaders): TraceContext {
  const given = headers.traceparent
  const m = typeof given === 'string' ? parentPattern.exec(given.trim()) : null
  // Version ff is invalid; version 00 has nothing after the flags; later versions may (§3.2.4).
  if (m && m[1] !== 'ff' && !(m[1] === '00' && m[5] !== undefined) && m[2] !== zeros32 && m[3] !== zeros16) {
    const raw = headers.tracestate
    const state = Array.isArray(raw) ? raw.join(',') : raw
    return {
      traceId: m[2]!,
      parentId: m[3],
      spanId: randomHex(8),
      flags: m[4]!,
      state: state && state.length <= maxStateLength ? state : undefined,
    }
  }
  const sampled = traceSettings.sampleRatio > 0 && Math.random() < traceSettings.sampleRatio
  return {
    traceId: randomHex(16),
    parentId: undefined,
    spanId: randomHex(8),
    flags: sampled ? '01' : '00',
    state: undefined,
  }
}

/** The `traceparent` value the backend receives: version 00, the trace, Portico's span, the flags. */
export function traceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${t.flags}`
}

// Random bytes drawn 4 KiB at a time, kept as hex: one system call and one conversion for about
// 170 exchanges, and each id a slice of that text, not a call of its own.
const poolBytes = 4096
const drawn = Buffer.allocUnsafe(poolBytes)
let hexPool = ''
let used = poolBytes

/** `bytes` random bytes as lower-case hex, never all zeros (an invalid id). */
function randomHex(bytes: number): string {
  if (used + bytes > poolBytes) {
    hexPool = randomFillSync(drawn).toString('hex')
    used = 0
  }
  const hex = hexPool.slice(used * 2, (used + bytes) * 2)
  used += bytes
  // Ids are 8 or 16 bytes: all zeros is the one value they must not have.
  return hex === zeros16 || hex === zeros32 ? randomHex(bytes) : hex
}
