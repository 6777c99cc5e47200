import { type Duplex, pipeline, type Writable } from 'node:stream'
import { type FailureCode, failures, ignore } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { stampAnswer } from '../http/proxy-headers.ts'
import { closeAfterAnswer } from './closing.ts'
import { cutResponse } from './cut-response.ts'
import { http1Response, writeResponseHead } from './response-head.ts'

/**
 * Answers the client from Portico itself with a short plain-text body: `headers` are added to the
 * head, which goes through localReply() as every local answer does. Never names a backend address or
 * shows a stack. Does nothing when the response has already started.
 */
export function reply(x: Exchange, status: number, body: string, headers?: Record<string, string>): void {
  if (x.res.headersSent || x.res.destroyed) {
    x.status = status
    return
  }
  const head = ['content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store']
  if (headers) for (const name in headers) head.push(name, headers[name]!)
  localReply(x, status, head, body)
}

/**
 * Starts an answer that Portico makes itself (an error, a redirect, a fixed answer, a static file):
 * adds Via and the request id to `headers` (flat `[name, value, …]`), runs the route's response
 * phases on the head as on a backend's answer, so that every local answer with a route gets its
 * header rules, writes the head, and returns where the body goes (the response, or the first of
 * the phases' transforms). The access log covers it as any other.
 */
export function startReply(x: Exchange, status: number, headers: string[]): Writable {
  stampAnswer(headers, x.id)
  closeIfBodyUnread(x)
  return startResponse(x, status, headers)
}

/** Answers with a whole body at once: the head through startReply, then the body (none for HEAD). */
export function localReply(x: Exchange, status: number, headers: string[], body: string | Uint8Array): void {
  const payload = Buffer.from(body)
  headers.push('content-length', String(payload.length))
  const out = startReply(x, status, headers)
  if (x.req.method === 'HEAD') {
    out.end()
    return
  }
  // Through response transforms, the bytes that come out of them count instead.
  if (out === x.responseStream) x.bytesOut += payload.length
  out.end(payload)
}

/**
 * Ends an exchange that failed with `code`: sets the outcome and answers with the catalogue's
 * status. When the response has started (a byte of it went to the client's connection), the
 * connection is cut so that the client sees an aborted response, never a truncated body presented
 * as complete. A head still held back (see startResponse) has not started it: it is dropped.
 */
export function respondError(x: Exchange, code: FailureCode, headers?: Record<string, string>): void {
  // A route's cache may answer with a stale copy instead (stale-if-error).
  if (x.route?.cache?.rescue(x, code)) return
  x.outcome = code
  x.held?.discard()
  const failure = failures[code]
  // Nobody to answer, or an answer already under way: cutting the connection is all that is left.
  if (failure.status === 0 || x.res.headersSent) {
    cutResponse(x)
    return
  }
  // A request refused for what the client sent may hide another request in its bytes: its
  // connection ends with the answer, as nginx does after a 400.
  const h1 = http1Response(x)
  if (failure.source === 'client' && h1) {
    h1.shouldKeepAlive = false
    closeAfterAnswer(x.req.socket)
  } else closeIfBodyUnread(x)
  // A firewall refusal names the request id, so that a user can quote it to the site's operators.
  const body = code === 'waf_blocked' ? `${failure.text}: request ${x.id}\n` : `${failure.text}\n`
  reply(x, failure.status, body, headers ?? x.answerHeaders)
}

/**
 * Marks the connection to close after this answer when the request has a body that was not read:
 * its bytes would otherwise be taken for the next request. A request without a body is not
 * `complete` yet while its 'request' event runs either, so the headers decide.
 */
export function closeIfBodyUnread(x: Exchange): void {
  const h = x.req.headers
  const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] ?? '0') !== '0'
  const h1 = http1Response(x)
  if (hasBody && !x.req.complete && h1) h1.shouldKeepAlive = false
}

/**
 * Starts a response to the client, from a backend or from Portico: runs the route's response
 * phases on the head (they may edit `headers`, a flat `[name, value, …]` list), and returns where
 * the body goes: the response, or the first of the phases' transforms. Body bytes that come out of
 * the transforms count as `bytes_out`; a caller that writes to the response itself counts its own.
 *
 * With `hold`, an HTTP/1.1 head waits as `x.held` until the first body byte or the end goes out (a
 * caller that writes to the response itself calls `x.held?.send()` first): until then nothing has
 * reached the client, so a backend that fails now still gets its 502. Node and Portico's own
 * HTTP/1.1 responses send the head with the first body bytes anyway, so holding it changes
 * nothing on the wire. An HTTP/2 head goes out at once, as node sends HEADERS on writeHead.
 */
export function startResponse(x: Exchange, status: number, headers: string[], reason?: string, hold = false): Writable {
  const phases = x.route?.responsePhases
  let chain: Duplex[] | undefined
  // A phase may answer with another status by setting `x.status` (the cache turns the 304 of its
  // own revalidation into the stored response); the phases after it see that status.
  x.status = status
  if (phases) {
    for (const phase of phases) {
      const transform = phase.onResponse(x, x.status, headers)
      if (transform) (chain ??= []).push(transform)
    }
  }
  const sentReason = x.status === status ? reason : undefined
  const held = hold && http1Response(x) !== undefined
  const head: Head | undefined = held ? [x.status, headers, sentReason] : undefined
  if (!held) writeResponseHead(x, x.status, headers, sentReason)
  if (!chain) {
    if (head) x.held = new Delivery(x, head, undefined)
    return x.responseStream
  }
  if (chain.length > 1) pipeline(chain, ignore)
  const delivery = new Delivery(x, head, chain[chain.length - 1]!)
  if (held) x.held = delivery
  return chain[0]!
}

type Head = [status: number, headers: string[], reason: string | undefined]

/**
 * Carries a body from the last of the response phases' transforms to the client, with
 * backpressure, counting what it hands over as `bytes_out`; sends a held head before the first
 * byte or the end. A transform that fails, or closes short of its end, cuts the response; a client
 * that goes away destroys the transforms, which frees their coders and temporary files.
 */
class Delivery {
  readonly #x: Exchange
  #head: Head | undefined
  readonly #last: Duplex | undefined
  #discarded = false

  constructor(x: Exchange, head: Head | undefined, last: Duplex | undefined) {
    this.#x = x
    this.#head = head
    this.#last = last
    if (!last) return
    const res = x.responseStream
    const resume = () => last.resume()
    last.on('data', (chunk: Buffer) => {
      this.send()
      x.bytesOut += chunk.length
      if (!res.write(chunk)) {
        last.pause()
        res.once('drain', resume)
      }
    })
    last.once('end', () => {
      this.send()
      res.end()
    })
    // A failure shows as the close below; the listener keeps it from being thrown.
    last.on('error', ignore)
    last.once('close', () => {
      if (!this.#discarded && !last.readableEnded) cutResponse(x)
    })
    res.once('close', () => last.destroy())
  }

  /** Sends the held head, if any (HeldResponse). */
  send(): void {
    const head = this.#head
    if (head === undefined) return
    this.#head = undefined
    const x = this.#x
    if (x.held === this) x.held = undefined
    writeResponseHead(x, head[0], head[1], head[2])
  }

  /** Drops the held head and the transforms (HeldResponse). */
  discard(): void {
    this.#discarded = true
    this.#head = undefined
    if (this.#x.held === this) this.#x.held = undefined
    this.#last?.destroy()
  }
}
