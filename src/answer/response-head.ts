import type { ServerResponse } from 'node:http'
import { type H1Response, type RenderedFields, writeRenderedHead } from '../engine/index.ts'
import type { Exchange } from '../exchange.ts'

/**
 * Writes the response head of `x` to its HTTP/1.1 or HTTP/2 client. `headers` is a flat
 * `[name, value, …]` list or an object, and gets the listener's Strict-Transport-Security unless it
 * has its own; the reason phrase goes only to HTTP/1.1 clients, since HTTP/2 has none (RFC 9113 §8.3.2).
 * While the listener drains, or on a connection it retired, an HTTP/1.1 head says `Connection:
 * close`, and the connection ends after it. The head goes to node whole, as one list: node then writes it without keeping a header map.
 */
export function writeResponseHead(
  x: Exchange,
  status: number,
  headers: string[] | Record<string, string | number>,
  reason?: string,
): void {
  if (x.hsts !== undefined) addHsts(headers, x.hsts)
  const res = http1Response(x)
  if (res) {
    if (x.listener.draining || x.listener.retired?.has(x.req.socket)) res.shouldKeepAlive = false
    if (reason) res.writeHead(status, reason, headers)
    else res.writeHead(status, headers)
  } else if (x.isHttp2()) x.res.writeHead(status, headers)
}

/**
 * writeResponseHead() for a head whose fields were rendered ahead of time (a stored response's),
 * plus `more` (flat `[name, value, …]`, which gets the listener's Strict-Transport-Security unless
 * `ownHsts` says the rendered fields have their own). Only over Portico's own HTTP/1.1 server;
 * returns false, having written nothing, otherwise.
 */
export function writeRenderedResponseHead(
  x: Exchange,
  status: number,
  rendered: RenderedFields,
  more: string[],
  ownHsts: boolean,
): boolean {
  if (!x.isHttp1()) return false
  const res = x.res
  const keepAlive = res.shouldKeepAlive
  if (x.listener.draining || x.listener.retired?.has(x.req.socket)) res.shouldKeepAlive = false
  if (x.hsts !== undefined && !ownHsts) more.push(hstsName, x.hsts)
  if (writeRenderedHead(res, status, rendered, more)) return true
  res.shouldKeepAlive = keepAlive
  return false
}

/** The response of an HTTP/1.1 exchange, node's or Portico's own; undefined over HTTP/2, where no connection is kept or closed per response. */
export function http1Response(x: Exchange): ServerResponse | H1Response | undefined {
  return x.isHttp1() ? x.res : undefined
}

const hstsName = 'strict-transport-security'

function addHsts(headers: string[] | Record<string, string | number>, value: string): void {
  if (!Array.isArray(headers)) {
    for (const name in headers) if (name.toLowerCase() === hstsName) return
    headers[hstsName] = value
    return
  }
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === hstsName) return
  headers.push(hstsName, value)
}
