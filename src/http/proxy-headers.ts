import type { Exchange } from '../exchange.ts'
import { forwardedElement, plainAddress } from './forwarded.ts'
import { connectionTokens, hopByHopNames, isHopByHop } from './hop-by-hop.ts'
import { mayBeNamed, nameLengths } from './name-lengths.ts'
import { traceparent } from './trace-context.ts'

/** The pseudonym this proxy uses in `Via` (RFC 9110 §7.6.3), never a host name. */
export const viaName = 'portico'

// Headers this proxy writes itself; a client's copy is replaced, or extended when it is trusted.
const rewritten = new Set([
  'via',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-request-id',
  'x-forwarded-client-cert',
  // W3C Trace Context: continued with Portico's own span, or a new trace (trace-context.ts).
  'traceparent',
  'tracestate',
  // Portico answers `Expect: 100-continue` itself, once the request passed its checks (pipeline.ts).
  'expect',
])

// Other claims about earlier hops (X-Forwarded-Port, X-Forwarded-Prefix, X-Real-IP, …) that
// backends may believe: only a trusted proxy may make them.
function isForwardingClaim(lower: string): boolean {
  return lower.startsWith('x-forwarded-') || lower === 'x-real-ip'
}

/**
 * Whether Portico writes this request header itself (Host, Via, the forwarding headers, the
 * request id) or drops it as hop-by-hop, so that a configured header rule could not change it.
 * `lower` is a lower-case header name.
 */
export function isWrittenByProxy(lower: string): boolean {
  return lower === 'host' || rewritten.has(lower) || isHopByHop(lower)
}

// Via entries by the client's protocol version: made once, not per request.
const viaEntries: Readonly<Record<string, string>> = {
  '1.0': `1.0 ${viaName}`,
  '1.1': `1.1 ${viaName}`,
  '2.0': `2 ${viaName}`,
}
const responseVia = `1.1 ${viaName}`

function viaEntry(x: Exchange): string {
  return viaEntries[x.req.httpVersion] ?? `${x.req.httpVersion} ${viaName}`
}

// The lengths of the names the request and response rules look at. A name of any other length is
// passed on as received without being lower-cased first: most are (Accept, User-Agent, Date, …).
const requestLooks = nameLengths(['host', 'te', 'cookie', 'x-real-ip', ...rewritten, ...hopByHopNames])
const responseLooks = nameLengths(['via', 'x-request-id', ...hopByHopNames])

/**
 * The header list sent to the backend, flat as `[name, value, …]`: the client's headers in the case
 * and order received, duplicates kept, less hop-by-hop ones; Host in its place (`hostOverride`
 * replaces its value); then Via and the forwarding headers. Forwarding headers from a trusted
 * proxy are extended; from anyone else, replaced, and other forwarding claims (X-Forwarded-Port,
 * X-Real-IP, …) removed. A verified client certificate is described in X-Forwarded-Client-Cert
 * (Envoy's format); a client's own copy of that header passes only from a trusted proxy.
 */
export function backendRequestHeaders(x: Exchange, hostOverride: string | undefined): string[] {
  const raw = x.req.rawHeaders
  const dropped = connectionTokens(x.req.headers.connection)
  const host = hostOverride ?? x.authority
  const out: string[] = []
  let hostSent = false
  const h2 = x.h2 !== undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    // HTTP/2 pseudo-headers (`:method`, `:path`, …) are not fields; undici writes its own (RFC 9113 §8.3).
    const first = name.charCodeAt(0)
    if (first === 58) continue
    // Forwarding claims (X-Forwarded-*, X-Real-IP) have many lengths; they all start with an x.
    const claim = !x.trusted && (first === 120 || first === 88)
    if (dropped === undefined && !claim && !mayBeNamed(requestLooks, name)) {
      out.push(name, raw[i + 1]!)
      continue
    }
    const lower = name.toLowerCase()
    // Host stays where the client put it; an absolute-form target or `host_header` gives its value.
    if (lower === 'host') {
      if (!hostSent) out.push(name, host)
      hostSent = true
      continue
    }
    // `TE: trailers` is the one TE an HTTP/2 hop may carry, and gRPC servers require it (RFC 9113 §8.2.2).
    if (lower === 'te' && raw[i + 1]!.trim().toLowerCase() === 'trailers') {
      out.push(name, 'trailers')
      continue
    }
    if (isHopByHop(lower) || rewritten.has(lower) || dropped?.has(lower)) continue
    if (!x.trusted && isForwardingClaim(lower)) continue
    // HTTP/2 may split Cookie into one field per pair; HTTP/1.1 allows one line (RFC 9113 §8.2.3).
    if (h2 && lower === 'cookie') continue
    out.push(name, raw[i + 1]!)
  }
  if (!hostSent) out.push('host', host)
  const h = x.req.headers
  if (h2 && h.cookie !== undefined) out.push('cookie', h.cookie)
  pushForwardingHeaders(x, out)
  return out
}

/**
 * Appends to `out` what Portico says about the hop: Via, the forwarding headers (extended from a
 * trusted proxy, else started here), the request id, the trace context, and the client certificate.
 */
function pushForwardingHeaders(x: Exchange, out: string[]): void {
  const h = x.req.headers
  const client = plainAddress(x.peerAddress)
  const trusted = x.trusted
  const priorFor = trusted ? joined(h['x-forwarded-for']) : undefined
  const priorForwarded = trusted ? joined(h.forwarded) : undefined
  const priorVia = joined(h.via)
  const element = forwardedElement(x.peerAddress, x.secure, x.authority)
  const via = viaEntry(x)
  out.push('via', priorVia ? `${priorVia}, ${via}` : via)
  out.push('x-forwarded-for', priorFor ? `${priorFor}, ${client}` : client)
  out.push('x-forwarded-proto', (trusted && joined(h['x-forwarded-proto'])) || (x.secure ? 'https' : 'http'))
  out.push('x-forwarded-host', (trusted && joined(h['x-forwarded-host'])) || x.authority)
  out.push('forwarded', priorForwarded ? `${priorForwarded}, ${element}` : element)
  out.push('x-request-id', x.id)
  const trace = x.trace
  out.push('traceparent', traceparent(trace))
  if (trace.state !== undefined) out.push('tracestate', trace.state)
  const priorCert = trusted ? joined(h['x-forwarded-client-cert']) : undefined
  const cert = x.tls?.forwardedClientCert
  if (priorCert || cert)
    out.push('x-forwarded-client-cert', priorCert && cert ? `${priorCert},${cert}` : (priorCert || cert)!)
}

/**
 * The header list sent to the client from a backend's raw response headers: case and order kept,
 * hop-by-hop ones (and those its `connection` header value names) removed, Via extended and the
 * request id added.
 */
export function clientResponseHeaders(
  x: Exchange,
  raw: readonly (Buffer | string)[],
  connection: string | string[] | undefined,
): string[] {
  const out: string[] = []
  let via: string | undefined
  const dropped = connectionTokens(connection)
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]!)
    const value = text(raw[i + 1]!)
    if (dropped === undefined && !mayBeNamed(responseLooks, name)) {
      out.push(name, value)
      continue
    }
    const lower = name.toLowerCase()
    if (isHopByHop(lower) || dropped?.has(lower) || lower === 'x-request-id') continue
    if (lower === 'via') {
      via = via ? `${via}, ${value}` : value
      continue
    }
    out.push(name, value)
  }
  out.push('via', via ? `${via}, ${responseVia}` : responseVia)
  out.push('x-request-id', x.id)
  return out
}

/**
 * Adds Via and the request id `id` to the head (flat `[name, value, …]`) of an answer Portico
 * makes itself, as clientResponseHeaders() adds them to a backend's.
 */
export function stampAnswer(headers: string[], id: string): string[] {
  headers.push('via', responseVia, 'x-request-id', id)
  return headers
}

/**
 * A flat `[name, value, …]` list from a header object, as undici gives for HTTP/2 responses and
 * trailers; a repeated field (an array value) becomes one entry per value.
 */
export function flatHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): string[] {
  const out: string[] = []
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) out.push(name, v)
    else out.push(name, String(value))
  }
  return out
}

function joined(value: string | string[] | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  return Array.isArray(value) ? value.join(', ') : value
}

function text(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('latin1')
}
