import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { freePort, installed, type Started, start } from './spawn.ts'

/** Where a contender sends traffic, and where it may keep files. */
export interface Setup {
  /** The HTTP origin, `127.0.0.1:port`. */
  readonly origin: string
  /** The WebSocket echo origin, `127.0.0.1:port`; requests under `/ws` go there. */
  readonly ws: string
  readonly dir: string
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

/** Starts Portico with `workers` in front of the setup's origins, its access log off or in JSON; `nodeFlags` go to node. */
export function portico(
  setup: Setup,
  workers: number,
  accessLog: boolean,
  nodeFlags: readonly string[] = [],
): Promise<Started> {
  const config = {
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { origin: { servers: [setup.origin] }, ws: { servers: [setup.ws] } },
    routes: [
      { match: { path: '/ws' }, pool: 'ws' },
      { pool: 'origin', max_body_bytes: '1MiB' },
    ],
    workers,
    access_log: accessLog ? { output: join(setup.dir, `access-${workers}.log`), format: 'json' } : { output: 'off' },
  }
  const file = join(setup.dir, `portico-${workers}-${accessLog ? 'log' : 'nolog'}.yaml`)
  writeFileSync(file, stringify(config))
  return start(setup.cpus, node, [...nodeFlags, here('../src/cli.ts'), 'run', '-c', file], porticoPort)
}

/** The contenders, in table order; Portico first, since every ratio is to it. */
export const contenders: readonly Contender[] = [
  { name: 'portico', available: () => true, start: (s) => portico(s, 1, false) },
  {
    name: 'portico+log',
    available: () => true,
    scenarios: ['get-1k'],
    start: (s) => portico(s, 1, true),
  },
  {
    name: 'portico×2',
    available: () => true,
    scenarios: ['get-1k'],
    allCores: true,
    start: (s) => portico(s, 2, false),
  },
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
  const dir = join(s.dir, 'nginx-proxy')
  const conf = join(s.dir, 'nginx-proxy.conf')
  const upstreams = `upstream origin { server ${s.origin}; keepalive 128; }\n  upstream ws { server ${s.ws}; }`
  writeFileSync(conf, nginxConfig(dir, port, upstreams, proxyLocations))
  return start(s.cpus, installed('nginx')!, ['-p', `${s.dir}/`, '-c', conf, '-e', join(s.dir, 'nginx-proxy.err')], port)
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

const proxyLocations = `    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
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
  const conf = join(s.dir, 'haproxy.cfg')
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
  use_backend ws if { path_beg /ws }
  default_backend origin
backend origin
  server o ${s.origin}
backend ws
  server w ${s.ws}
`,
  )
  return start(s.cpus, installed('haproxy')!, ['-f', conf, '-db'], port)
}
