import { readFileSync } from 'node:fs'
import { Agent, type IncomingMessage, request } from 'node:http'
import { localReply } from '../../answer/respond.ts'
import type { Exchange } from '../../exchange.ts'
import { connectionTokens, isHopByHop } from '../../http/hop-by-hop.ts'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { RequestPhase, Verdict } from '../phase.ts'
import { addRequestField, removeRequestFields } from './request-fields.ts'
import type { ForwardAuthConfig } from './schema.ts'

/** The https Agent's TLS settings from the `tls` block: files read once, when the Plan is built. */
function tlsOptions(tls: ForwardAuthConfig['tls']) {
  if (!tls) return {}
  return {
    ca: tls.ca === undefined ? undefined : readFileSync(tls.ca),
    cert: tls.cert === undefined ? undefined : readFileSync(tls.cert),
    key: tls.key === undefined ? undefined : readFileSync(tls.key),
    servername: tls.server_name,
    rejectUnauthorized: tls.verify,
  }
}

/** Largest body of a refusal relayed to the client; an auth service that sends more is taken as failing. */
const maxRelayedBytes = 64 * 1024

/** Client fields never sent to the auth service: the body's, and the ones this phase writes itself. */
const notSent = new Set([
  'host',
  'content-length',
  'expect',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-method',
  'x-forwarded-proto',
  'x-forwarded-uri',
  'x-request-id',
])

/**
 * Forward authentication of one route: each request is first asked of the auth service, with GET,
 * no body, the client's headers and its method, host, URI, scheme and address in X-Forwarded-*.
 * A 2xx answer lets the request go on, with the answer's `response_headers` put on it in place of
 * any the client sent; any other answer goes back to the client as it came (status, headers less
 * hop-by-hop ones, body), as `auth_denied`. An auth service that cannot be reached, breaks off, or
 * sends a refusal over 64 KiB ends the exchange with 502 `auth_unavailable`; one slower than
 * `timeout`, with 504 `auth_timeout`. A client that leaves aborts the sub-request.
 */
export class ForwardAuthPhase implements RequestPhase {
  readonly #url: URL
  readonly #agent: Agent
  readonly #timeoutMs: number
  readonly #send: ReadonlySet<string> | undefined
  readonly #copy: readonly string[]
  readonly #copyLower: ReadonlySet<string>

  constructor(config: ForwardAuthConfig) {
    this.#url = new URL(config.url)
    const https = this.#url.protocol === 'https:'
    // Idle connections close before node's default 5 s keep-alive on the other side would.
    const options = { keepAlive: true, keepAliveMsecs: 1000, timeout: 4000 }
    this.#agent = https
      ? new (lazyBuiltin('node:https').Agent)({ ...options, ...tlsOptions(config.tls) })
      : new Agent(options)
    this.#timeoutMs = config.timeout
    this.#send = config.request_headers && new Set(config.request_headers.map((n) => n.toLowerCase()))
    this.#copy = config.response_headers
    this.#copyLower = new Set(config.response_headers.map((n) => n.toLowerCase()))
  }

  onRequest(x: Exchange): Promise<Verdict> {
    return new Promise((resolve) => {
      const timeout = AbortSignal.timeout(this.#timeoutMs)
      const signal = AbortSignal.any([timeout, x.abort.signal])
      const fail = () => resolve(x.cancelled ? 'client_aborted' : timeout.aborted ? 'auth_timeout' : 'auth_unavailable')
      const headers = this.#headers(x)
      const https = this.#url.protocol === 'https:'
      const send = https ? lazyBuiltin('node:https').request : request
      const req = send(this.#url, { method: 'GET', headers, agent: this.#agent, signal }, (res) => {
        res.on('error', fail)
        // Cut short, by the service or the timeout: no verdict came.
        res.once('close', () => {
          if (!res.complete) fail()
        })
        const status = res.statusCode ?? 502
        if (status >= 200 && status < 300) {
          res.resume()
          res.once('end', () => resolve(this.#admit(x, res)))
        } else this.#relay(x, res, status, resolve)
      })
      req.on('error', fail)
      req.end()
    })
  }

  /** The sub-request's headers: the client's chosen ones, then what Portico knows of the request. */
  #headers(x: Exchange): string[] {
    const raw = x.req.rawHeaders
    const dropped = connectionTokens(x.req.headers.connection)
    const h2 = x.isHttp2()
    // A flat header list gets no Host from node: the service's own goes first.
    const out: string[] = ['host', this.#url.host]
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      // HTTP/2 pseudo-headers are not fields (RFC 9113 §8.3).
      if (name.charCodeAt(0) === 58) continue
      const lower = name.toLowerCase()
      if (this.#send ? !this.#send.has(lower) : isHopByHop(lower) || notSent.has(lower) || dropped?.has(lower)) continue
      if (notSent.has(lower)) continue
      // HTTP/2 may split Cookie into one field per pair; HTTP/1.1 allows one line (RFC 9113 §8.2.3).
      if (h2 && lower === 'cookie') continue
      out.push(name, raw[i + 1]!)
    }
    const cookie = x.req.headers.cookie
    if (h2 && cookie !== undefined && (this.#send === undefined || this.#send.has('cookie'))) out.push('cookie', cookie)
    out.push(
      'x-forwarded-method',
      x.req.method ?? 'GET',
      'x-forwarded-proto',
      x.secure ? 'https' : 'http',
      'x-forwarded-host',
      x.authority,
      'x-forwarded-uri',
      x.path,
      'x-forwarded-for',
      x.clientAddress,
      'x-request-id',
      x.id,
    )
    return out
  }

  /** The service said yes: its chosen headers replace the client's of the same names. */
  #admit(x: Exchange, res: IncomingMessage): undefined {
    if (this.#copy.length === 0) return undefined
    removeRequestFields(x.req, this.#copyLower)
    for (const name of this.#copy) {
      const value = res.headers[name.toLowerCase()]
      if (value === undefined) continue
      for (const v of Array.isArray(value) ? value : [value]) addRequestField(x.req, name, v)
    }
    return undefined
  }

  /** The service said no: its answer goes to the client through the answer path, as `auth_denied`. */
  #relay(x: Exchange, res: IncomingMessage, status: number, resolve: (v: Verdict) => void): void {
    const chunks: Buffer[] = []
    let bytes = 0
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > maxRelayedBytes) {
        res.destroy()
        resolve('auth_unavailable')
      } else chunks.push(chunk)
    })
    res.once('end', () => {
      const raw = res.rawHeaders
      const dropped = connectionTokens(res.headers.connection)
      const headers: string[] = []
      for (let i = 0; i < raw.length; i += 2) {
        const lower = raw[i]!.toLowerCase()
        if (isHopByHop(lower) || lower === 'content-length' || dropped?.has(lower)) continue
        headers.push(raw[i]!, raw[i + 1]!)
      }
      x.outcome = 'auth_denied'
      localReply(x, status, headers, Buffer.concat(chunks))
      resolve(null)
    })
  }
}
