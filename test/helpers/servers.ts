import { H1Client } from '../../src/engine/client/client.ts'
import type { H1Settings } from '../../src/engine/client/connection.ts'
import type { Exchange } from '../../src/exchange.ts'
import { type Server, ServerState } from '../../src/upstream/server.ts'

/**
 * Servers for unit tests of pools and balancers, named a, b, c… with the given weights. Their
 * connection pools open no socket until something is sent through them.
 */
export function testServers(weights: readonly number[], extra: Partial<Server> = {}): Server[] {
  return weights.map((weight, i) => {
    const port = 10_000 + i
    const settings: H1Settings = {
      host: '127.0.0.1',
      port,
      tls: undefined,
      connectTimeoutMs: 1000,
      keepAliveIdleMs: 1000,
      maxHeaderSize: 16 * 1024,
    }
    return {
      address: `${String.fromCharCode(97 + i)}:${port}`,
      host: '127.0.0.1',
      port,
      origin: `http://127.0.0.1:${port}`,
      weight,
      maxConns: 0,
      backup: false,
      state: new ServerState(new H1Client(settings, 8), () => new H1Client(settings, 1, true)),
      ...extra,
    }
  })
}

/** What a balancer reads from an exchange, for unit tests: client address, path, headers. */
export function testExchange(
  fields: { clientAddress?: string; path?: string; headers?: Record<string, string> } = {},
): Exchange {
  const x = {
    clientAddress: fields.clientAddress ?? '127.0.0.1',
    path: fields.path ?? '/',
    req: { headers: fields.headers ?? {} },
    setCookie: undefined,
    queueMs: -1,
    queueDepth: 0,
    abort: new AbortController(),
  }
  return x as unknown as Exchange
}

/** A seeded pseudo-random source (mulberry32) in [0, 1): the same seed gives the same numbers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
