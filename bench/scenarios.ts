import { type Drive, http, websocket } from './load.ts'

/** One kind of traffic, driven the same way through every contender. */
export interface Scenario {
  readonly name: string
  readonly title: string
  readonly drive: Drive
  /** Only these contenders (all when absent). */
  readonly only?: readonly string[]
}

/**
 * The scenarios, in table order. A new one is one entry here: TLS with HTTP/2 from the client
 * joins as an entry whose `drive` speaks h2 over TLS, once Portico terminates TLS.
 */
export const scenarios: readonly Scenario[] = [
  { name: 'get-1k', title: '1 KiB GET, keep-alive', drive: http({ path: '/1k' }) },
  { name: 'get-100k', title: '100 KiB GET, keep-alive', drive: http({ path: '/100k' }) },
  {
    name: 'post-16k',
    title: 'POST with a 16 KiB body, keep-alive',
    drive: http({ path: '/post', method: 'POST', bodyBytes: 16 * 1024 }),
  },
  {
    name: 'get-1k-close',
    title: '1 KiB GET, a new connection each request',
    drive: http({ path: '/1k', close: true }),
  },
  {
    name: 'get-1k-rate',
    title: '1 KiB GET, keep-alive, all at the same 2000 req/s (latency and CPU at equal load)',
    drive: http({ path: '/1k', rate: 2000 }),
    only: ['portico', 'direct', 'nginx', 'haproxy'],
  },
  { name: 'ws', title: 'WebSocket echo, 64-byte messages (msgs/s)', drive: websocket(64) },
]
