// The `portico` command: arguments, subcommands, exit codes and signals. src/cli.ts sets the process up, then loads this.
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startAgent } from './admin/agent.ts'
import type { Fleet } from './admin/control.ts'
import { type Admin, startAdmin } from './admin/start.ts'
import { startWorkers, type Workers } from './cluster/primary.ts'
import { runWorker } from './cluster/worker.ts'
import { workerCount } from './cluster/worker-count.ts'
import { loadConfigApart } from './config/load-apart.ts'
import { ConfigError } from './config/problem.ts'
import type { Config } from './config/schema.ts'
import { demoPort, startDemo } from './demo.ts'
import { Discovery } from './discovery/discovery.ts'
import { shared } from './instance/shared-state.ts'
import { type EventLog, openEventLog } from './log/events.ts'
import { collectFrom, metricsContentType, metricsText } from './metrics/exposition.ts'
import { listenMetrics, type MetricsListener } from './metrics/listener.ts'
import { type Portico, startPortico } from './portico.ts'
import { selfSigned } from './tls/self-signed.ts'

/** Exit codes, as documented in the README. */
const exit = { ok: 0, invalidConfig: 1, usage: 2, startFailed: 3 } as const

const help = `portico — a reverse proxy and load balancer

Usage:
  portico run [-c FILE]      run; with no FILE, a demo in front of three built-in backends
  portico validate -c FILE   check a config: exit 0 and a summary, or exit 1 and every error
  portico schema             print the config's JSON Schema (for editor completion)
  portico cert [--out DIR] [--name NAME]...
                             write a self-signed certificate for local use (needs openssl)
  portico ctl COMMAND        call the admin API of a running Portico (portico ctl --help)
  portico explain -c FILE 'GET https://example.com/path' [-H 'Name: value']... [--from ADDRESS]
                             say which listener, route, phases, pool and server a request takes
  portico hash-password      read a password on standard input, print its hash (auth.basic)
  portico --help | --version

Signals: SIGTERM or SIGINT drains and exits 0 (a second one exits at once with 1);
SIGHUP reloads the config file, keeping the old config if the new one is invalid.

Exit codes: 0 ok, 1 invalid config, 2 usage error, 3 could not start (e.g. address in use).
`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

async function main(argv: string[]): Promise<number> {
  if (cluster.isWorker) return runWorker(openEventLog())
  if (argv[0] === 'ctl') {
    const { runCtl } = await import('./admin/ctl.ts')
    return runCtl(argv.slice(1))
  }
  if (argv[0] === 'explain') {
    const { runExplain } = await import('./explain-command.ts')
    return runExplain(argv.slice(1))
  }
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    process.stderr.write(`portico: ${(err as Error).message}\n\n${help}`)
    return exit.usage
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(help)
    return exit.ok
  }
  if (values.version) {
    process.stdout.write(`portico ${version()}\n`)
    return exit.ok
  }
  const [command, ...extra] = positionals
  if (extra.length > 0) {
    process.stderr.write(`portico: unexpected argument "${extra[0]}"\n\n${help}`)
    return exit.usage
  }
  switch (command) {
    case 'run':
      return run(values.config)
    case 'validate':
      return await validate(values.config)
    case 'cert':
      return cert(values.out, values.name)
    case 'hash-password': {
      const { hashPasswordCommand } = await import('./hash-password.ts')
      return hashPasswordCommand()
    }
    case 'schema': {
      const { configJsonSchema } = await import('./config/load.ts')
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`)
      return exit.ok
    }
    default:
      process.stderr.write(command ? `portico: unknown command "${command}"\n\n${help}` : help)
      return exit.usage
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      out: { type: 'string' },
      name: { type: 'string', multiple: true },
    },
  })
}

async function validate(file: string | undefined): Promise<number> {
  if (!file) {
    process.stderr.write('portico: validate needs -c FILE\n')
    return exit.usage
  }
  // Loaded here only: `run` checks its config in a child process (config/load-apart.ts).
  const { loadConfig } = await import('./config/load.ts')
  try {
    const config = loadConfig(file)
    const pools = Object.values(config.pools)
    const servers = pools.reduce((n, p) => n + p.servers.length, 0)
    const counts = [
      count(config.listeners.length, 'listener'),
      count(config.routes.length, 'route'),
      count(pools.length, 'pool'),
      count(servers, 'server'),
    ]
    process.stdout.write(`${file}: ok, ${counts.join(', ')}\n`)
    return exit.ok
  } catch (err) {
    return reportConfigError(err)
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function cert(out = 'portico-cert', names: string[] = ['localhost', '127.0.0.1', '::1']): number {
  try {
    const files = selfSigned(out, names)
    process.stdout.write(
      `wrote a self-signed certificate for ${names.join(', ')}, valid 365 days:\n  ${files.cert}\n  ${files.key}\n` +
        `use it on a listener:\n  tls:\n    certificates:\n      - { cert: ${files.cert}, key: ${files.key} }\n`,
    )
    return exit.ok
  } catch (err) {
    process.stderr.write(
      `portico: could not generate a certificate (is openssl installed?): ${(err as Error).message}\n`,
    )
    return exit.startFailed
  }
}

function reportConfigError(err: unknown): number {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`${err.message}\n`)
  return exit.invalidConfig
}

async function run(file: string | undefined): Promise<number> {
  const events = openEventLog()
  let config: Config
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined
  try {
    if (file) config = await loadConfigApart({ file })
    else {
      const port = demoPort(process.env.PORT)
      if (port === undefined) {
        process.stderr.write(`portico: PORT must be a port number from 0 to 65535, found "${process.env.PORT}"\n`)
        return exit.invalidConfig
      }
      demo = await startDemo(port)
      config = await loadConfigApart({ config: demo.config })
    }
  } catch (err) {
    return reportConfigError(err)
  }
  const workers = workerCount(config)
  const fileConfig = config
  let discovery: Discovery | undefined
  if (Discovery.wanted(config)) {
    discovery = await Discovery.start(config, events)
    config = discovery.expand(config)
  }
  let portico: Running
  let admin: Admin | undefined
  let metrics: MetricsListener | undefined
  try {
    let fleet: Fleet
    if (workers > 1) {
      const started = await startWorkers(config, workers, events)
      portico = started
      fleet = workerFleet(started)
    } else {
      const started = await startPortico(config, events, shared)
      portico = started
      fleet = aloneFleet(started, events)
    }
    try {
      // The primary of several workers serves no traffic: it may hold the schema, and a reload
      // then skips starting a process (docs/PERFORMANCE.md). Portico alone keeps it apart.
      const load = workers > 1 ? loadInProcess : (f: string) => loadConfigApart({ file: f })
      admin = await startAdmin(fileConfig, fleet, {
        file,
        events,
        load,
        expand: discovery && ((c) => discovery.expand(c)),
        discoveryDrainMs: config.discovery.drain_deadline,
      })
      const control = admin.control
      discovery?.attach({
        discovered: (...change) => control.discovered(...change),
        current: () => control.file,
      })
      if (config.metrics) {
        metrics = await serveMetrics(config.metrics.address, portico, workers > 1, admin).catch((err: Error) => {
          throw new Error(`the metrics listener: ${err.message}`)
        })
      }
    } catch (err) {
      await Promise.all([portico.close(), admin?.close()])
      throw err
    }
  } catch (err) {
    demo?.close()
    process.stderr.write(`portico: could not start: ${(err as Error).message}\n`)
    return exit.startFailed
  }
  // Signal handlers go in before the startup lines: whoever reads them may signal at once.
  let graceMs = config.shutdown_grace
  process.on('SIGHUP', async () => {
    if (!file) return events.warn('SIGHUP ignored: the demo has no config file to reload')
    const result = await admin.control.reloadFromFile('SIGHUP')
    if (result.ok) graceMs = admin.control.effective.shutdown_grace
  })
  const stopped = new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) process.exit(1)
      stopping = true
      discovery?.close()
      const closed = Promise.all([portico.close(), admin.close(), metrics?.close()])
      // Logged once the listeners no longer accept, so whoever reads it can count on that.
      events.info('draining', { signal, grace_ms: graceMs })
      void closed.then(() => {
        demo?.close()
        events.info('stopped')
        resolve(exit.ok)
      })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })

  for (const url of portico.urls) process.stdout.write(`portico listening on ${url}\n`)
  if (admin.url) process.stdout.write(`portico admin API on ${admin.url}\n`)
  if (metrics) process.stdout.write(`portico metrics on ${metrics.url}\n`)
  if (demo) {
    process.stdout.write(
      `portico demo: no config file given, so round robin over three demo backends at ${demo.addresses.join(', ')}\n` +
        `  try: curl ${portico.urls[0]}/   (run \`portico run -c portico.yaml\` for a real config)\n`,
    )
  }
  return stopped
}

/** Portico in this process, or its workers: what `run` starts and stops. */
type Running = Pick<Portico, 'urls' | 'close' | 'metrics'> | Pick<Workers, 'urls' | 'close' | 'metrics'>

/**
 * Serves the instance's metrics on their own listener at `address` and as `GET /metrics` on the
 * admin listener. Each scrape gathers this process's report, or, with workers, every worker's and
 * the primary's own process metrics.
 */
async function serveMetrics(
  address: string,
  running: Running,
  workers: boolean,
  admin: Admin,
): Promise<MetricsListener> {
  if (workers) await collectFrom(() => (running as Pick<Workers, 'metrics'>).metrics(), true)
  else {
    const own = (running as Pick<Portico, 'metrics'>).metrics
    await collectFrom(async () => {
      const report = await own?.()
      return report ? [{ pid: process.pid, worker: '0', report }] : []
    }, false)
  }
  admin.routes.add({
    method: 'GET',
    path: '/metrics',
    handler: async () => ({ status: 200, body: await metricsText(), type: metricsContentType }),
  })
  return listenMetrics(address)
}

/** Reads and validates a config file in this process. */
async function loadInProcess(file: string): Promise<Config> {
  const { loadConfig } = await import('./config/load.ts')
  return loadConfig(file)
}

/** The admin API's view of Portico serving in this process alone. */
function aloneFleet(portico: Portico, events: EventLog): Fleet {
  const agent = startAgent(() => portico.plan(), shared)
  return {
    urls: portico.urls,
    ask: async (request) => [agent.answer(request)],
    share: (key, value) => shared.set(key, value),
    reload(config) {
      const needRestart = portico.reload(config)
      agent.reapply()
      if (needRestart.length > 0) events.warn('changes that take effect only on restart', { keys: needRestart })
    },
  }
}

/** The admin API's view of the workers, through the primary. */
function workerFleet(workers: Workers): Fleet {
  return {
    get urls() {
      return workers.urls
    },
    ask: (request) => workers.ask(request),
    share: (key, value) => workers.share(key, value),
    reload: (config) => workers.reload(config),
  }
}

process.exitCode = await main(process.argv.slice(2))
