import { Writable } from 'node:stream'
import { bodylessRequest } from '../engine/index.ts'
import { type ClientResponse, Exchange } from '../exchange.ts'
import type { Route } from '../route/table.ts'
import { forward } from '../upstream/forward.ts'

/**
 * Starts a backend request of the cache's own, with no client waiting (a stale-while-revalidate
 * refresh): a copy of `x`'s GET, sent through `route`'s action and the pool as any other, whose
 * response the route's response phases see (so the cache stores it) and whose bytes are dropped.
 * `prepare` runs on the new exchange before it is sent; `done` when it ended, whatever happened.
 */
export function fetchInBackground(x: Exchange, route: Route, prepare: (bx: Exchange) => void, done: () => void): void {
  // The client's own conditionals stay with the client: the cache sends its validators instead.
  const rawHeaders: string[] = []
  const raw = x.req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    if (!raw[i]!.toLowerCase().startsWith('if-')) rawHeaders.push(raw[i]!, raw[i + 1]!)
  }
  // The client it stands for is named by `peer` below.
  const req = bodylessRequest('GET', x.path, rawHeaders)
  const res = new Discard()
  const bx = new Exchange(req, res as unknown as ClientResponse, {
    secure: x.secure,
    trusted: x.trusted,
    peer: { address: x.peerAddress, port: x.clientPort },
    tls: x.tls,
    hsts: undefined,
    listener: { draining: false },
    paths: x.paths,
    underscoresInHeaders: x.underscoresInHeaders,
  })
  bx.authority = x.authority
  bx.host = x.host
  bx.clientAddress = x.clientAddress
  bx.route = route
  res.once('close', done)
  prepare(bx)
  const pool = route.action.run(bx)
  if (pool) forward(bx, pool, null)
  else res.destroy()
}

/**
 * The response of a background request: the members of a client response that the forwarder and
 * the response phases use (head, body, trailers, early hints), keeping nothing. Its 'close' ends
 * the background request, as a client response's does.
 */
class Discard extends Writable {
  headersSent = false
  shouldKeepAlive = true

  writeHead(): this {
    this.headersSent = true
    return this
  }

  addTrailers(): void {}

  writeEarlyHints(): void {}

  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback()
  }
}
