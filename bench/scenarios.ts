import { type Contender, levels } from './contenders.ts'
import { type Drive, h2, http, websocket } from './load.ts'

/** One kind of traffic, driven the same way through every contender. */
export interface Scenario {
  readonly name: string
  readonly title: string
  readonly drive: Drive
  /** Only these contenders (all when absent). */
  readonly only?: readonly string[]
  /** Contenders that cannot take part, and why: they sit out, and the table says so. */
  readonly skipped?: Readonly<Record<string, string>>
  /** The contender the `vs Portico` column divides by. Default `portico`. */
  readonly base?: string
  /** Ratios printed under the table, each `[a, b]`: a's requests per second ÷ b's. */
  readonly ratios?: readonly (readonly [string, string])[]
  /** A command the load needs and the Debian package that has it; without it, the scenario is skipped. */
  readonly needs?: { readonly command: string; readonly debian: string }
  /** Seconds of load per measurement unless `--duration` is given. Default 2. */
  readonly seconds?: number
}

/** The scenarios, in table order. A new one is one entry here. */
export const scenarios: readonly Scenario[] = [
  { name: 'get-1k', title: '1 KiB GET, keep-alive', drive: http({ path: '/1k' }) },
  { name: 'get-100k', title: '100 KiB GET, keep-alive', drive: http({ path: '/100k' }) },
  {
    name: 'post-16k',
    title: 'POST with a 16 KiB body, keep-alive',
    drive: http({ path: '/post', method: 'POST', bodyBytes: 16 * 1024 }),
    // One second, as for get-1k-close and ws, keeps the default run within 5 minutes.
    seconds: 1,
  },
  {
    name: 'get-1k-close',
    title: '1 KiB GET, a new connection each request',
    drive: http({ path: '/1k', close: true }),
    seconds: 1,
  },
  {
    name: 'get-1k-rate',
    title: '1 KiB GET, keep-alive, all at the same 2000 req/s (latency and CPU at equal load)',
    drive: http({ path: '/1k', rate: 2000 }),
    only: ['portico', 'portico×2', 'direct', 'nginx', 'haproxy'],
  },
  { name: 'ws', title: 'WebSocket echo, 64-byte messages (msgs/s)', drive: websocket(64), seconds: 1 },
  {
    name: 'json-100k',
    title: `100 KiB JSON, compressed: gzip level ${levels.gzip}, Brotli quality ${levels.br}`,
    // Each contender offers one coding, so the header a browser sends picks it.
    drive: http({ path: '/json', headers: { 'accept-encoding': 'gzip, br' }, compressed: true }),
    only: ['portico+gzip', 'portico+br', 'nginx', 'haproxy'],
    skipped: {
      direct: 'the origin does not compress',
      'http-proxy': 'cannot compress',
      '@fastify/http-proxy': 'cannot compress',
    },
    base: 'portico+gzip',
    ratios: [
      ['portico+gzip', 'nginx'],
      ['portico+br', 'nginx'],
    ],
  },
  ...(['1k', '100k'] as const).map(
    (size): Scenario => ({
      name: `cache-hit-${size}`,
      title: `${size === '1k' ? '1 KiB' : '100 KiB'} GET answered from the cache (always a hit), keep-alive`,
      // The origin answers /c/… with max-age=3600: after the first request every one is a hit.
      drive: http({ path: `/c/${size}` }),
      only: ['portico+cache', 'portico', 'nginx', 'varnish'],
      base: 'portico+cache',
      ratios: [
        ['portico+cache', 'portico'],
        ['portico+cache', 'nginx'],
        ['portico+cache', 'varnish'],
      ],
    }),
  ),
  {
    name: 'h2-tls',
    title: '1 KiB GET over TLS with HTTP/2 from the client (h2load, 5 streams per connection)',
    drive: h2('/1k', 5),
    only: ['portico', 'nginx', 'haproxy'],
    skipped: {
      direct: 'the origin serves plain HTTP/1.1',
      'http-proxy': 'no HTTP/2 in front',
      '@fastify/http-proxy': 'no HTTP/2 in front',
    },
    needs: { command: 'h2load', debian: 'nghttp2-client' },
  },
]

/** Whether contender `c` takes part in scenario `s`. */
export function inScenario(c: Contender, s: Scenario): boolean {
  // A baseline twin (`NAME@base`) runs where its contender does.
  const name = c.name.replace(/@base$/, '')
  return (
    (c.scenarios === undefined || c.scenarios.includes(s.name)) &&
    (s.only === undefined || s.only.includes(name)) &&
    s.skipped?.[name] === undefined
  )
}
