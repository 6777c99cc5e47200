import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { stringify } from 'yaml'
import type { CertificateFiles } from '../src/tls/self-signed.ts'
import { freePort, installed, type Started, start } from './spawn.ts'
import { varnish } from './varnish.ts'

/** Where a contender sends traffic, and where it may keep files. */
export interface Setup {
  /** The HTTP origin, `127.0.0.1:port`. */
  readonly origin: string
  /** The WebSocket echo origin, `127.0.0.1:port`; requests under `/ws` go there. */
  readonly ws: string
  readonly dir: string
  /** The self-signed certificate for TLS listeners. */
  readonly tls: CertificateFiles
  /** CPUs for the contender (`taskset -c` list), or undefined to leave it unpinned. */
  readonly cpus: string | undefined
}

/** One thing the load is driven through: a proxy, or the origin itself as the ceiling. */
export interface Contender {
  readonly name: string
  /** Whether it can run on this machine. */
  available(): boolean
  /** Only in these scenarios (all when absent): variants that answer one question. */
  readonly scenarios?: readonly string[]
  /** Runs unpinned, on every core, when set. */
  readonly allCores?: boolean
  /** How Portico is set up, for Portico's variants: `bench/profile.ts` runs the same under `--cpu-prof`. */
  readonly portico?: PorticoOptions
  start(setup: Setup): Promise<Started>
}

const node = process.execPath
const here = (path: string) => new URL(path, import.meta.url).pathname
const port = (address: string) => Number(address.split(':')[1])
const jsonPort = (stdout: string) => {
  const m = /\{"port":(\d+)\}/.exec(stdout)
  return m ? Number(m[1]) : undefined
}
const porticoPort = (stdout: string) => {
  const m = /portico listening on http:\/\/[^:]+:(\d+)/.exec(stdout)
  return m ? Number(m[1]) : undefined
}

/** The compression levels of the `json-100k` scenario: nginx and portico+gzip at the same gzip level. */
export const levels = { gzip: 5, br: 4 } as const

/** How one Portico contender is set up. */
export interface PorticoOptions {
  /** Names its config and access log files. */
  readonly label: string
  readonly workers: number
  /** The JSON access log to a file; off when false or absent. */
  readonly accessLog?: boolean
  /** A second listener, with TLS and HTTP/2, on a free port. */
  readonly tls?: boolean
  /** The route's `waf` block with its defaults (block mode, paranoia level 1); none when false or absent. */
  readonly waf?: boolean
  /** The route's `compression` block; none when absent. */
  readonly compression?: { readonly codings: readonly string[]; readonly levels: Record<string, number> }
  /** The route's `cache` block; none when absent. */
  readonly cache?: Readonly<Record<string, unknown>>
  /** The `metrics` section, its listener on a free loopback port; off when false or absent. */
  readonly metrics?: boolean
  /** Another build's `cli.js` to run instead of this tree's `dist/cli.js` (an A/B against older code). */
  readonly cli?: string
}

/**
 * Starts Portico as `options` say, in front of the setup's origins, as users get it: the built
 * `portico` command, run by its shebang line (its node flags and malloc settings) with this node.
 * `nodeFlags` are added through `NODE_OPTIONS`.
 */
export async function portico(
  setup: Setup,
  options: PorticoOptions,
  nodeFlags: readonly string[] = [],
): Promise<Started> {
  const tlsPort = options.tls ? await freePort() : undefined
  const tls = { certificates: [{ cert: setup.tls.cert, key: setup.tls.key }] }
  const config = {
    listeners: [{ address: '127.0.0.1:0' }, ...(tlsPort ? [{ address: `127.0.0.1:${tlsPort}`, tls }] : [])],
    pools: { origin: { servers: [setup.origin] }, ws: { servers: [setup.ws] } },
    routes: [
      { match: { path: '/ws' }, pool: 'ws' },
      {
        pool: 'origin',
        max_body_bytes: '1MiB',
        ...(options.compression ? { compression: options.compression } : {}),
        ...(options.cache ? { cache: options.cache } : {}),
        ...(options.waf ? { waf: {} } : {}),
      },
    ],
    workers: options.workers,
    access_log: options.accessLog
      ? { output: join(setup.dir, `access-${options.label}.log`), format: 'json' }
      : { output: 'off' },
    ...(options.metrics ? { metrics: { address: '127.0.0.1:0' } } : {}),
  }
  const file = join(setup.dir, `${options.label}.yaml`)
  writeFileSync(file, stringify(config))
  const env = {
    PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
    NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...nodeFlags].join(' ').trim(),
  }
  if (options.cli === undefined) buildOnce()
  const started = await start(setup.cpus, options.cli ?? here('../dist/cli.js'), ['run', '-c', file], porticoPort, env)
  return { ...started, tlsPort }
}

let built = false

/** Builds `dist/` from the sources, once per bench run, so that a bench never measures a stale build. */
function buildOnce(): void {
  if (built) return
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: here('..'), stdio: ['ignore', 'ignore', 'inherit'] })
  built = true
}

/** A Portico variant: one process unless `options` say otherwise. */
function ours(name: string, options: PorticoOptions, extra?: Pick<Contender, 'scenarios' | 'allCores'>): Contender {
  return { name, available: () => true, ...extra, portico: options, start: (s) => portico(s, options) }
}

/**
 * The twin of Portico contender `c` that runs the build in `dist` (a copy of an older `dist/`,
 * with package.json beside it, kept under the project so that it finds the same node_modules),
 * named `c`'s name + `@base`.
 */
export function baselineTwin(c: Contender, dist: string): Contender | undefined {
  if (c.portico === undefined) return undefined
  const options = { ...c.portico, label: `${c.portico.label}-base`, cli: join(dist, 'cli.js') }
  return { ...c, name: `${c.name}@base`, portico: options, start: (s) => portico(s, options) }
}

/** The contenders, in table order; Portico first, since every ratio is to it. */
export const contenders: readonly Contender[] = [
  ours('portico', { label: 'portico', workers: 1, tls: true }),
  ours('portico+log', { label: 'portico-log', workers: 1, accessLog: true }, { scenarios: ['get-1k'] }),
  // The same as `portico` with metrics on: what counting every exchange costs.
  ours(
    'portico+metrics',
    { label: 'portico-metrics', workers: 1, tls: true, metrics: true },
    { scenarios: ['get-1k'] },
  ),
  ours('portico+waf', { label: 'portico-waf', workers: 1, waf: true }, { scenarios: ['get-1k'] }),
  ours('portico×2', { label: 'portico-2', workers: 2 }, { scenarios: ['get-1k', 'get-1k-rate'], allCores: true }),
  ours(
    'portico+gzip',
    { label: 'portico-gzip', workers: 1, compression: { codings: ['gzip'], levels: { gzip: levels.gzip } } },
    { scenarios: ['json-100k'] },
  ),
  ours(
    'portico+br',
    { label: 'portico-br', workers: 1, compression: { codings: ['br'], levels: { br: levels.br } } },
    { scenarios: ['json-100k'] },
  ),
  ours(
    'portico+cache',
    { label: 'portico-cache', workers: 1, cache: { memory: '64MiB' } },
    { scenarios: ['cache-hit-1k', 'cache-hit-100k'] },
  ),
  {
    name: 'direct',
    available: () => true,
    // The origin itself: the ceiling the proxies are measured against. It already runs.
    start: async (s) => ({ pid: 0, port: port(s.origin), wsPort: port(s.ws), stop: async () => {} }),
  },
  {
    name: 'nginx',
    available: () => installed('nginx') !== undefined,
    start: (s) => nginx(s),
  },
  {
    name: 'haproxy',
    available: () => installed('haproxy') !== undefined,
    start: (s) => haproxy(s),
  },
  {
    name: 'varnish',
    available: () => installed('varnishd') !== undefined,
    scenarios: ['cache-hit-1k', 'cache-hit-100k'],
    start: (s) => varnish(s),
  },
  {
    name: 'http-proxy',
    available: () => true,
    start: (s) => start(s.cpus, node, [here('./peers/http-proxy.ts'), s.origin, s.ws], jsonPort),
  },
  {
    name: '@fastify/http-proxy',
    available: () => true,
    start: (s) => start(s.cpus, node, [here('./peers/fastify-http-proxy.ts'), s.origin, s.ws], jsonPort),
  },
]

async function nginx(s: Setup): Promise<Started> {
  const port = await freePort()
  const tlsPort = await freePort()
  const dir = join(s.dir, 'nginx-proxy')
  const conf = join(s.dir, 'nginx-proxy.conf')
  // proxy_cache for the cache-hit scenarios: responses under /c/ are kept as the origin allows.
  const http = `upstream origin { server ${s.origin}; keepalive 128; }
  proxy_cache_path ${dir}-cache levels=1:2 keys_zone=bench:10m max_size=256m inactive=60m use_temp_path=off;
  upstream ws { server ${s.ws}; }
  server {
    listen 127.0.0.1:${tlsPort} ssl http2 backlog=4096;
    ssl_certificate ${s.tls.cert};
    ssl_certificate_key ${s.tls.key};
    location / {
      ${toOrigin}
    }
  }`
  writeFileSync(conf, nginxConfig(dir, port, http, proxyLocations))
  const args = ['-p', `${s.dir}/`, '-c', conf, '-e', join(s.dir, 'nginx-proxy.err')]
  return { ...(await start(s.cpus, installed('nginx')!, args, port)), tlsPort }
}

/**
 * nginx with one worker and its files under `dir`, as the proxy or as the origin: `http` goes in
 * its http block, `server` in the server block listening on `port`.
 */
export function nginxConfig(dir: string, port: number, http: string, server: string): string {
  return `worker_processes 1;
daemon off;
pid ${dir}.pid;
error_log ${dir}.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_buffer_size 64k;
  client_body_temp_path ${dir}-body;
  proxy_temp_path ${dir}-proxy;
  fastcgi_temp_path ${dir}-fastcgi;
  uwsgi_temp_path ${dir}-uwsgi;
  scgi_temp_path ${dir}-scgi;
  ${http}
  server {
    listen 127.0.0.1:${port} backlog=4096;
${server}
  }
}
`
}

const toOrigin = `proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;`

const proxyLocations = `    location / {
      ${toOrigin}
    }
    location /c/ {
      ${toOrigin}
      proxy_cache bench;
    }
    location = /json {
      ${toOrigin}
      gzip on;
      gzip_comp_level ${levels.gzip};
      gzip_types application/json;
      gzip_proxied any;
    }
    location /ws {
      proxy_pass http://ws;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
    }`

async function haproxy(s: Setup): Promise<Started> {
  const port = await freePort()
  const tlsPort = await freePort()
  const conf = join(s.dir, 'haproxy.cfg')
  // HAProxy reads the certificate and its key from one file.
  const pem = join(s.dir, 'haproxy.pem')
  writeFileSync(pem, `${readFileSync(s.tls.cert, 'utf8')}${readFileSync(s.tls.key, 'utf8')}`, { mode: 0o600 })
  writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option forwardfor
  http-reuse always
frontend in
  bind 127.0.0.1:${port}
  bind 127.0.0.1:${tlsPort} ssl crt ${pem} alpn h2,http/1.1
  use_backend ws if { path_beg /ws }
  use_backend json if { path /json }
  default_backend origin
backend origin
  server o ${s.origin}
backend json
  filter compression
  compression algo gzip
  compression type application/json
  server j ${s.origin}
backend ws
  server w ${s.ws}
`,
  )
  return { ...(await start(s.cpus, installed('haproxy')!, ['-f', conf, '-db'], port)), tlsPort }
}
