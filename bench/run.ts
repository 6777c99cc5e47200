import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, release, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { selfSigned } from '../src/tls/self-signed.ts'
import { baselineTwin, type Contender, contenders } from './contenders.ts'
import type { LoadOptions } from './load.ts'
import { startOrigins } from './origins.ts'
import { pinning } from './pin.ts'
import { usage } from './proc.ts'
import { formatReport, type Memory, type Report, type Sample, summarise } from './report.ts'
import { inScenario, type Scenario, scenarios } from './scenarios.ts'
import { installed, type Started } from './spawn.ts'

const help = `npm run bench -- [options]

Runs every scenario through every contender (Portico, the origin directly, nginx and HAProxy when
installed, node-http-proxy, @fastify/http-proxy), in interleaved rounds, and prints the medians.

  --scenarios a,b     scenarios to run (default all): ${scenarios.map((s) => s.name).join(', ')}
  --peers a,b         contenders besides Portico (default all available): ${contenders
    .filter((c) => c.name !== 'portico')
    .map((c) => c.name)
    .join(', ')}
  --duration S        seconds of load per measurement (default 2, or what the scenario says)
  --rounds N          interleaved rounds; each figure is the median (default 3)
  --connections N     concurrent connections (default 50)
  --load TOOL         wrk or autocannon (default wrk when installed)
  --origin KIND       nginx or node (default nginx when installed)
  --idle S            seconds without load before RSS after the run is read (default 45)
  --json FILE         also write the report as JSON to FILE
  --baseline DIR      also runs each chosen Portico contender (named NAME@base) from DIR, a
                      copy of another build's dist/ with package.json beside it, kept inside
                      the project for its node_modules: old and new code in one run
`

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    peers: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    idle: { type: 'string', default: '45' },
    json: { type: 'string' },
    baseline: { type: 'string' },
    load: { type: 'string' },
    origin: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(help)
  process.exit(0)
}

const pick = <T extends { name: string }>(all: readonly T[], list: string | undefined, what: string): T[] => {
  if (list === undefined) return [...all]
  const names = list.split(',').map((n) => n.trim())
  for (const n of names) {
    if (!all.some((x) => x.name === n)) {
      process.stderr.write(`bench: unknown ${what} "${n}"; known: ${all.map((x) => x.name).join(', ')}\n`)
      process.exit(2)
    }
  }
  return all.filter((x) => names.includes(x.name))
}
const notes: string[] = []
const chosenScenarios = pick(scenarios, values.scenarios, 'scenario').filter((s) => {
  if (!s.needs || installed(s.needs.command)) return true
  const note = `Scenario ${s.name} skipped: it needs ${s.needs.command} (Debian package ${s.needs.debian}), which is not installed.`
  process.stderr.write(`bench: ${note}\n`)
  notes.push(note)
  return false
})
const picked = values.peers === undefined ? contenders : pick(contenders, `portico,${values.peers}`, 'peer')
const baseline = values.baseline === undefined ? undefined : resolve(values.baseline)
const chosenPeers = baseline
  ? picked.flatMap((c) => {
      const twin = baselineTwin(c, baseline)
      return twin ? [c, twin] : [c]
    })
  : picked
const count = (name: 'duration' | 'rounds' | 'connections' | 'idle') => {
  const n = Number(values[name])
  if (Number.isInteger(n) && n > 0) return n
  process.stderr.write(`bench: --${name} takes a whole number above 0, found "${values[name]}"\n`)
  process.exit(2)
}
const oneOf = (name: 'load' | 'origin', choices: readonly string[]) => {
  const v = values[name]
  if (v === undefined || choices.includes(v)) return v
  process.stderr.write(`bench: --${name} takes ${choices.join(' or ')}, found "${v}"\n`)
  process.exit(2)
}
const duration = values.duration === undefined ? undefined : count('duration')
const secondsOf = (s: Scenario) => duration ?? s.seconds ?? 2
const rounds = count('rounds')
const connections = count('connections')
const idleSeconds = count('idle')
const load = oneOf('load', ['wrk', 'autocannon'])
const origin = oneOf('origin', ['nginx', 'node'])
const tool = load === 'autocannon' || !installed('wrk') ? 'autocannon' : 'wrk'
const pins = pinning()
if (pins) execFileSync('taskset', ['-a', '-p', '-c', pins.rest, String(process.pid)], { stdio: 'ignore' })

const dir = mkdtempSync(join(tmpdir(), 'portico-bench-'))
// nginx's worker runs as another user and reads the 100 KiB file from here.
chmodSync(dir, 0o755)
const origins = await startOrigins(dir, pins?.rest, origin !== 'node')
const running: { contender: Contender; started: Started }[] = []
const stopAll = async () => {
  await Promise.all(running.map((r) => r.started.stop()))
  await origins.stop()
  rmSync(dir, { recursive: true, force: true })
}
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)))

try {
  const setup = {
    origin: `127.0.0.1:${origins.http.port}`,
    ws: `127.0.0.1:${origins.ws.port}`,
    dir,
    tls: selfSigned(join(dir, 'tls')),
  }
  for (const contender of chosenPeers) {
    if (!contender.available()) {
      process.stderr.write(`bench: ${contender.name} is not installed; skipped\n`)
      continue
    }
    const cpus = contender.allCores ? undefined : pins?.proxy
    running.push({ contender, started: await contender.start({ ...setup, cpus }) })
  }
  const roundSeconds = chosenScenarios
    .map((s) => running.filter((r) => inScenario(r.contender, s)).length * (secondsOf(s) + 0.3))
    .reduce((a, b) => a + b, 0)
  process.stderr.write(
    `bench: ${running.map((r) => r.contender.name).join(', ')}; ${chosenScenarios.length} scenario(s), ${rounds} round(s) of ${durations()}, load by ${tool}, origin ${origins.kind}` +
      `${pins ? `, proxy on CPU ${pins.proxy}, load and origin on CPU ${pins.rest}` : ', unpinned'}; about ${Math.ceil((rounds * roundSeconds + running.length * 1.3 + idleSeconds) / 60)} min\n`,
  )

  const samples = new Map<string, Sample[]>()
  const measure = async (scenario: Scenario, r: (typeof running)[number], time: number) => {
    const options: LoadOptions = {
      url: `http://127.0.0.1:${r.started.port}`,
      wsUrl: `ws://127.0.0.1:${r.started.wsPort ?? r.started.port}/ws`,
      tlsUrl: r.started.tlsPort ? `https://127.0.0.1:${r.started.tlsPort}` : undefined,
      seconds: time,
      connections,
      cpus: pins?.rest,
      dir,
      tool,
    }
    const pid = r.started.pid
    const before = pid ? usage(pid) : undefined
    const result = await scenario.drive(options)
    const after = pid ? usage(pid) : undefined
    return { ...result, cpuSeconds: before && after ? after.cpuSeconds - before.cpuSeconds : undefined }
  }
  // Warm up each contender once, in its first scenario: JIT, connection pools, page cache. A path
  // still cold in round 1 of a later scenario moves one of the rounds, not the median.
  for (const r of running) {
    const first = chosenScenarios.find((scenario) => inScenario(r.contender, scenario))
    if (first) await measure(first, r, 1).catch(() => {})
  }
  for (let round = 0; round < rounds; round++) {
    for (const scenario of chosenScenarios) {
      // Each round starts with a different contender, so none always runs right after the same one.
      const order = running.map((_, i) => running[(i + round) % running.length]!)
      for (const r of order) {
        if (!inScenario(r.contender, scenario)) continue
        const sample = await measure(scenario, r, secondsOf(scenario)).catch((err: Error) => {
          process.stderr.write(
            `  round ${round + 1} ${scenario.name} ${r.contender.name} failed: ${err.message.split('\n').slice(0, 8).join(' ')}\n`,
          )
        })
        if (!sample) continue
        const key = `${scenario.name}/${r.contender.name}`
        samples.set(key, [...(samples.get(key) ?? []), sample])
        process.stderr.write(
          `  round ${round + 1} ${scenario.name} ${r.contender.name}: ${sample.rps.toFixed(0)}/s p99 ${sample.p99Ms.toFixed(2)}ms\n`,
        )
      }
    }
  }

  // RSS after the run is read as `ps` would show it once the load has stopped for a while: a
  // process may keep what the load made it take (V8's grown heap, malloc's free lists) or give it back.
  const withPid = running.filter((r) => r.started.pid)
  const atEnd = withPid.map((r) => usage(r.started.pid))
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000))
  const memory: Memory[] = withPid.map((r, i) => {
    const u = usage(r.started.pid)
    return {
      contender: r.contender.name,
      peakRssMb: (u?.peakRssBytes ?? 0) / 2 ** 20,
      rssAtEndMb: (atEnd[i]?.rssBytes ?? 0) / 2 ** 20,
      rssAfterMb: (u?.rssBytes ?? 0) / 2 ** 20,
      privateAfterMb: (u?.privateBytes ?? 0) / 2 ** 20,
    }
  })
  const report: Report = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    versions: versions(origins.kind),
    settings: {
      load: tool,
      connections: connections,
      rounds: `${rounds} × ${durations()}, medians`,
      origin: origins.kind,
      pinning: pins ? `proxy on CPU ${pins.proxy}; load and origin on CPU ${pins.rest}` : 'none',
      CPU: `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`,
      kernel: release(),
    },
    notes,
    scenarios: chosenScenarios.map((scenario) => {
      const rps = (name: string) => {
        const found = samples.get(`${scenario.name}/${name}`)
        return found ? summarise(name, found, 0).rps : Number.NaN
      }
      const base = rps(scenario.base ?? 'portico')
      const isRunning = (name: string) => running.some((r) => r.contender.name === name)
      return {
        name: scenario.name,
        title: scenario.title,
        rows: running
          .filter((r) => samples.has(`${scenario.name}/${r.contender.name}`))
          .map((r) => summarise(r.contender.name, samples.get(`${scenario.name}/${r.contender.name}`)!, base)),
        skipped: Object.entries(scenario.skipped ?? {})
          .filter(([name]) => isRunning(name))
          .map(([contender, reason]) => ({ contender, reason })),
        ratios: (scenario.ratios ?? [])
          .filter(([a, b]) => isRunning(a) && isRunning(b))
          .map(([a, b]) => ({ label: `${a} ÷ ${b}`, value: rps(a) / rps(b) })),
      }
    }),
    memory,
    idleSeconds,
    targets: [],
  }
  const withTargets = { ...report, targets: targets(report) }
  process.stdout.write(formatReport(withTargets))
  if (values.json) writeFileSync(values.json, `${JSON.stringify(withTargets, null, 2)}\n`)
} finally {
  await stopAll()
}

/** The seconds per measurement: `2s`, or `2s (ws: 1s)` where scenarios differ. */
function durations(): string {
  const usual = duration ?? 2
  const other = chosenScenarios.filter((s) => secondsOf(s) !== usual).map((s) => `${s.name}: ${secondsOf(s)}s`)
  return other.length > 0 ? `${usual}s (${other.join(', ')})` : `${usual}s`
}

/** The issue's targets, checked on the 1 KiB keep-alive GETs of this run. */
function targets(r: Report): Report['targets'] {
  const rows = r.scenarios.find((s) => s.name === 'get-1k')?.rows
  const row = (name: string) => rows?.find((x) => x.contender === name)
  const portico = row('portico')
  if (!portico) return []
  const out: { target: string; met: boolean; detail: string }[] = []
  const ratio = (name: string, min: number, label: string) => {
    const peer = row(name)
    if (!peer) return
    out.push({ target: label, met: portico.rps >= peer.rps * min, detail: `${(portico.rps / peer.rps).toFixed(2)}×` })
  }
  ratio('http-proxy', 2, '≥ 2× node-http-proxy req/s')
  ratio('@fastify/http-proxy', 1.0001, 'ahead of @fastify/http-proxy')
  ratio('nginx', 0.5, '≥ ½ nginx (one worker) req/s')
  // Latency compares best at one rate for all; without that scenario, each at its own full rate.
  const atRate = r.scenarios.find((s) => s.name === 'get-1k-rate')?.rows
  const latencyRows = atRate ?? rows
  const direct = latencyRows?.find((x) => x.contender === 'direct')
  const nginx = latencyRows?.find((x) => x.contender === 'nginx')
  const ours = latencyRows?.find((x) => x.contender === 'portico')
  if (direct && nginx && ours) {
    const added = ours.p99Ms - direct.p99Ms
    const theirs = nginx.p99Ms - direct.p99Ms
    out.push({
      target: 'p99 added over direct ≤ nginx’s',
      met: added <= theirs,
      detail: `${added.toFixed(2)} ms vs ${theirs.toFixed(2)} ms (${atRate ? 'same rate' : 'each at its own full rate'})`,
    })
  }
  const memory = r.memory.find((m) => m.contender === 'portico')
  if (memory) {
    out.push({
      target: 'RSS < 80 MB after the run',
      met: memory.rssAfterMb < 80,
      detail: `${memory.rssAfterMb.toFixed(1)} MB ${r.idleSeconds} s after (peak ${memory.peakRssMb.toFixed(1)} MB, at load end ${memory.rssAtEndMb.toFixed(1)} MB, private ${memory.privateAfterMb.toFixed(1)} MB)`,
    })
  }
  // Two workers at the same rate as one: what the second worker costs per request, free of the load's contention.
  const rate = (name: string) => atRate?.find((x) => x.contender === name)?.cpuUsPerRequest
  const oneAtRate = rate('portico')
  const twoAtRate = rate('portico×2')
  if (oneAtRate !== undefined && twoAtRate !== undefined)
    out.push({
      target: '2 workers: CPU/req ≤ 1 worker’s (same rate)',
      met: twoAtRate <= oneAtRate,
      detail: `${twoAtRate.toFixed(1)} µs vs ${oneAtRate.toFixed(1)} µs (${(twoAtRate / oneAtRate).toFixed(2)}×)`,
    })
  // The headline: every Portico contender within 1.5× nginx's CPU per request, scenario by scenario.
  const over: string[] = []
  let compared = 0
  for (const s of r.scenarios) {
    const nginxCpu = s.rows.find((x) => x.contender === 'nginx')?.cpuUsPerRequest
    if (nginxCpu === undefined) continue
    // Portico as the scenario runs it with one worker (with its cache in the cache-hit scenarios,
    // where plain `portico` is the uncached comparison); Brotli is held to gzip instead, below.
    const ours = scenarios.find((d) => d.name === s.name)?.base ?? 'portico'
    for (const x of s.rows) {
      if ((x.contender !== ours && x.contender !== 'portico+gzip') || x.cpuUsPerRequest === undefined) continue
      compared++
      const ratio = x.cpuUsPerRequest / nginxCpu
      if (ratio > 1.5) over.push(`${s.name} ${x.contender} ${ratio.toFixed(2)}×`)
    }
  }
  if (compared > 0)
    out.push({
      target: 'CPU/req ≤ 1.5× nginx’s, every scenario',
      met: over.length === 0,
      detail: over.length === 0 ? `all ${compared}` : `over: ${over.join(', ')}`,
    })
  const json = r.scenarios.find((s) => s.name === 'json-100k')?.rows
  const gzipCpu = json?.find((x) => x.contender === 'portico+gzip')?.cpuUsPerRequest
  const brCpu = json?.find((x) => x.contender === 'portico+br')?.cpuUsPerRequest
  if (gzipCpu !== undefined && brCpu !== undefined)
    out.push({
      target: 'Brotli q4 CPU/req ≤ 2× gzip-5’s',
      met: brCpu <= 2 * gzipCpu,
      detail: `${(brCpu / gzipCpu).toFixed(2)}× (${brCpu.toFixed(0)} vs ${gzipCpu.toFixed(0)} µs)`,
    })
  const two = row('portico×2')
  if (two)
    out.push({
      target: 'scaling 1 → 2 workers',
      met: two.rps > portico.rps,
      detail: `${(two.rps / portico.rps).toFixed(2)}×`,
    })
  return out
}

function versions(origin: string): Record<string, string> {
  const pkg = (name: string) =>
    (
      JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string
      }
    ).version
  const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  const out: Record<string, string> = {
    portico: own.version,
    node: process.versions.node,
    // Portico's TLS is node's OpenSSL, which may differ from the system's.
    'node OpenSSL': process.versions.openssl,
    'http-proxy': pkg('http-proxy'),
    '@fastify/http-proxy': pkg('@fastify/http-proxy'),
    fastify: pkg('fastify'),
  }
  const tryVersion = (name: string, args: string[], re: RegExp) => {
    const bin = installed(name)
    if (!bin) return
    // Some print their version on stderr, and wrk exits 1 after printing it.
    const { stdout, stderr } = spawnSync(bin, args, { encoding: 'utf8' })
    out[name] = re.exec(`${stdout}${stderr}`)?.[1] ?? 'unknown'
  }
  tryVersion('nginx', ['-v'], /nginx\/(\S+)/)
  tryVersion('haproxy', ['-v'], /version (\S+)/)
  tryVersion('wrk', ['-v'], /wrk (\S+)/)
  tryVersion('h2load', ['--version'], /nghttp2\/(\S+)/)
  if (origin === 'node') out.origin = 'node'
  return out
}
