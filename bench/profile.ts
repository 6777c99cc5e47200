import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { selfSigned } from '../src/tls/self-signed.ts'
import { contenders, portico } from './contenders.ts'
import { startOrigins } from './origins.ts'
import { pinning } from './pin.ts'
import { inScenario, scenarios } from './scenarios.ts'
import { installed } from './spawn.ts'

/**
 * `node bench/profile.ts [--scenario get-1k] [--variant NAME] [--duration 5] [--top 25]`: runs one Portico worker
 * with `--cpu-prof` under one scenario's load, pinned as in the bench, and prints where its CPU
 * time went: by area (Portico's code, undici, node, GC, system calls) and by function, idle left
 * out. The Portico variant is `--variant` (e.g. portico+metrics), else the scenario's base when that is
 * one (portico+cache for cache-hit-*), else the bench's first one in that scenario (portico+gzip for json-100k).
 * The profile file is kept for Chrome DevTools.
 */
const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'get-1k' },
    variant: { type: 'string' },
    duration: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
  },
})
const scenario = scenarios.find((s) => s.name === values.scenario)
if (!scenario) {
  process.stderr.write(
    `profile: unknown scenario "${values.scenario}"; known: ${scenarios.map((s) => s.name).join(', ')}\n`,
  )
  process.exit(2)
}
// `--variant`, else the scenario's base when it is a Portico variant (portico+cache for cache-hit-*),
// else the first Portico variant in the scenario.
const variant =
  values.variant === undefined
    ? (contenders.find((c) => c.portico && c.name === scenario.base) ??
      contenders.find((c) => c.portico && inScenario(c, scenario)))
    : contenders.find((c) => c.portico && inScenario(c, scenario) && c.name === values.variant)
if (!variant) {
  process.stderr.write(`profile: no Portico variant "${values.variant}" in scenario ${scenario.name}\n`)
  process.exit(2)
}
const pins = pinning()
const dir = mkdtempSync(join(tmpdir(), 'portico-profile-'))
chmodSync(dir, 0o755)
const origins = await startOrigins(dir, pins?.rest, true)
const setup = {
  origin: `127.0.0.1:${origins.http.port}`,
  ws: `127.0.0.1:${origins.ws.port}`,
  dir,
  tls: selfSigned(join(dir, 'tls')),
  cpus: pins?.proxy,
}
const proxy = await portico(setup, variant.portico!, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
const options = {
  url: `http://127.0.0.1:${proxy.port}`,
  wsUrl: `ws://127.0.0.1:${proxy.port}/ws`,
  tlsUrl: proxy.tlsPort ? `https://127.0.0.1:${proxy.tlsPort}` : undefined,
  connections: 50,
  cpus: pins?.rest,
  dir,
  tool: installed('wrk') ? ('wrk' as const) : ('autocannon' as const),
}
await scenario.drive({ ...options, seconds: 1 })
const result = await scenario.drive({ ...options, seconds: Number(values.duration) })
// The profile is written when the process exits.
await proxy.stop()
await origins.stop()
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!
const kept = join(tmpdir(), file)
const text = readFileSync(join(dir, file), 'utf8')
rmSync(dir, { recursive: true, force: true })
process.stdout.write(
  `${variant.name}, ${scenario.title}: ${result.rps.toFixed(0)}/s, p99 ${result.p99Ms.toFixed(2)} ms\n`,
)
report(JSON.parse(text), Number(values.top))
writeFileSync(kept, text)
process.stdout.write(`\nprofile: ${kept}\n`)

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  samples: number[]
  timeDeltas: number[]
}

function report(p: Profile, top: number): void {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]))
  const byArea = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let total = 0
  p.samples.forEach((id, i) => {
    const frame = frames.get(id)!
    if (frame.functionName === '(idle)') return
    const dt = p.timeDeltas[i] ?? 0
    total += dt
    const where = area(frame.url, frame.functionName)
    byArea.set(where, (byArea.get(where) ?? 0) + dt)
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + dt)
  })
  const print = (title: string, m: Map<string, number>, n: number) => {
    process.stdout.write(`\n${title}\n`)
    for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
      process.stdout.write(`${((t / total) * 100).toFixed(1).padStart(6)}%  ${k}\n`)
  }
  print('CPU by area (self time, idle excluded)', byArea, 10)
  print('CPU by function', byFunction, top)
}

function area(url: string, name: string): string {
  if (url.includes('/src/') || url.includes('/dist/')) return "Portico's code"
  if (url.includes('node_modules/undici')) return 'undici'
  if (url.includes('node_modules/')) return 'other libraries'
  if (url.startsWith('node:')) return 'node (http, streams, events, timers)'
  if (name === '(garbage collector)') return 'garbage collection'
  if (url.startsWith('wasm')) return 'wasm (llhttp)'
  if (url === '') return `native: ${name}`
  return 'other'
}

function shortUrl(url: string): string {
  return url
    .replace(/^.*\/src\//, 'src/')
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\//, '')
}
