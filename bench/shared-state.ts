import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { http } from './load.ts'
import { startOrigins } from './origins.ts'
import { pinning } from './pin.ts'
import { usage } from './proc.ts'
import { installed, start } from './spawn.ts'

/**
 * `node bench/shared-state.ts [--seconds 2] [--rounds 3] [--redis 127.0.0.1:6379]`: what sharing
 * state through Redis costs per request. One Portico process (one worker, pinned as in the bench)
 * per variant, 1 KiB keep-alive GETs, the variants interleaved round by round so that a busy
 * moment of the machine hits them all: no rate limit, a limit counted in the process, the same
 * limit counted in Redis, and sticky sessions alone and with the shared table. Prints req/s and
 * CPU µs per request (medians), each as a ratio to its local peer of the same run.
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    redis: { type: 'string', default: '127.0.0.1:6379' },
  },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const cli = new URL('../dist/cli.js', import.meta.url).pathname
const pins = pinning()
const dir = mkdtempSync(join(tmpdir(), 'portico-shared-bench-'))
const tool = installed('wrk') ? 'wrk' : 'autocannon'
const redis = { address: values.redis, key_prefix: `portico-bench:${process.pid}:`, timeout: '1s' }
const limit = { rate: 1_000_000_000, burst: 1_000_000_000 }

const variants: { name: string; pool: object; route: object; redis?: object }[] = [
  { name: 'no limit', pool: {}, route: {} },
  { name: 'limit, local', pool: {}, route: { rate_limits: [{ ...limit, store: 'local' }] } },
  { name: 'limit, redis', pool: {}, route: { rate_limits: [{ ...limit, store: 'redis' }] } },
  { name: 'sticky', pool: { balancer: 'sticky' }, route: {} },
  { name: 'sticky, shared', pool: { balancer: 'sticky' }, route: {}, redis: { share: ['sticky'] } },
]

const origins = await startOrigins(dir, pins?.rest, true)
const results = new Map<string, { rps: number[]; cpuUs: number[] }>()
try {
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const file = join(dir, 'portico.yaml')
      writeFileSync(
        file,
        stringify({
          listeners: [{ address: '127.0.0.1:0' }],
          workers: 1,
          access_log: { output: 'off' },
          pools: { web: { servers: [`127.0.0.1:${origins.http.port}`], ...v.pool } },
          redis: { ...redis, ...v.redis },
          routes: [{ pool: 'web', ...v.route }],
        }),
      )
      const p = await start(pins?.proxy, process.execPath, [cli, 'run', '-c', file], (out) => {
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
        return m ? Number(m[1]) : undefined
      })
      try {
        const url = `http://127.0.0.1:${p.port}`
        // Warm up: the JIT, the keep-alive connections, and the Redis connection.
        await http({ path: '/1k' })({ ...load(url), seconds: 1 })
        const before = usage(p.pid)
        const r = await http({ path: '/1k' })(load(url))
        const after = usage(p.pid)
        if (r.errors > 0) throw new Error(`${v.name}: ${r.errors} errors`)
        const entry = results.get(v.name) ?? { rps: [], cpuUs: [] }
        entry.rps.push(r.rps)
        if (before && after) entry.cpuUs.push(((after.cpuSeconds - before.cpuSeconds) * 1e6) / r.requests)
        results.set(v.name, entry)
      } finally {
        await p.stop()
      }
    }
  }
} finally {
  await origins.stop()
  rmSync(dir, { recursive: true, force: true })
}

const peers: Record<string, string> = { 'limit, redis': 'limit, local', 'sticky, shared': 'sticky' }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
process.stdout.write(
  `load: ${tool}; connections: ${connections}; rounds: ${rounds} × ${seconds}s, medians; ${new Date().toISOString()}\n\n`,
)
process.stdout.write(
  '| variant | req/s | CPU µs/req | req/s vs local peer | CPU vs local peer |\n| --- | ---: | ---: | ---: | ---: |\n',
)
for (const v of variants) {
  const r = results.get(v.name)!
  const peer = peers[v.name] ? results.get(peers[v.name]!) : undefined
  const rps = median(r.rps)
  const cpu = median(r.cpuUs)
  const vs = (a: number, b: number | undefined) => (b === undefined ? '' : `${(a / b).toFixed(2)}×`)
  process.stdout.write(
    `| ${v.name} | ${rps.toFixed(0)} | ${cpu.toFixed(1)} | ${vs(rps, peer && median(peer.rps))} | ${vs(cpu, peer && median(peer.cpuUs))} |\n`,
  )
}

function load(url: string) {
  return { url, wsUrl: '', tlsUrl: undefined, seconds, connections, cpus: pins?.rest, dir, tool } as const
}
