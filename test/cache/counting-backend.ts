import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { TestContext } from 'node:test'
import type { ConfigInput } from '../../src/config/schema.ts'
import { startBackend } from '../helpers/backend.ts'
import { startPortico, type TestPortico } from '../helpers/portico.ts'

/** A backend that counts the requests it receives, and Portico with one caching route in front of it. */
export interface CachedSetup {
  readonly proxy: TestPortico
  /** Requests the backend received so far. */
  readonly count: () => number
  /** The requests the backend received, in order. */
  readonly seen: IncomingMessage[]
  /** Stops the backend: its connections are cut and it refuses new ones. */
  readonly stop: () => void
}

/**
 * Starts a counting backend answering with `handler` and Portico with a route that caches with
 * `cache` (the route's `cache:` block), other route keys in `route`, top-level keys in `extra` and
 * pool keys in `pool`.
 */
export async function cachedSetup(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  cache: Record<string, unknown> = {},
  route: Record<string, unknown> = {},
  extra: Partial<ConfigInput> = {},
  pool: Record<string, unknown> = {},
): Promise<CachedSetup> {
  const seen: IncomingMessage[] = []
  const listener: RequestListener = (req, res) => {
    seen.push(req)
    handler(req, res, seen.length)
  }
  const backend = await startBackend(t, 'b', listener)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address], ...pool } },
    routes: [{ pool: 'web', cache, ...route } as never],
    ...extra,
  })
  const stop = () => {
    backend.server.close()
    backend.server.closeAllConnections()
  }
  return { proxy, count: () => seen.length, seen, stop }
}

/** A handler that answers `body` with the given response headers, and `x-n` numbering the request. */
export function answer(headers: Record<string, string | string[]>, body = 'hello', status = 200) {
  return (_req: IncomingMessage, res: ServerResponse, n: number) => {
    res.writeHead(status, { 'content-type': 'text/plain', 'x-n': String(n), ...headers })
    res.end(body)
  }
}
