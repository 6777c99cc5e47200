// The `portico` command: arguments, subcommands, exit codes and signals. src/cli.ts sets the process up, then loads this.
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type Serving, startServing } from './cluster/serving.ts'
import { runWorker } from './cluster/worker.ts'
import { defaultConfigFile, systemConfigFile } from './config/default-file.ts'
import { loadConfigApart } from './config/load-apart.ts'
import { ConfigError } from './config/problem.ts'
import type { Config } from './config/schema.ts'
import { demoPort, startDemo } from './demo.ts'
import { type EventLog, openEventLog } from './log/events.ts'
import { selfSigned } from './tls/self-signed.ts'

/** Exit codes, as documented in the README. */
const exit = { ok: 0, invalidConfig: 1, usage: 2, startFailed: 3 } as const

const help = `portico — a reverse proxy and load balancer

Usage:
  portico run [-c FILE]      run; with no FILE, /etc/portico/portico.yaml (or $PORTICO_CONFIG)
                             if it exists, else a demo in front of three built-in backends
  portico validate [-c FILE] check a config (the same default): exit 0 and a summary, or 1 and every error
  portico schema             print the config's JSON Schema (for editor completion)
  portico cert [--out DIR] [--name NAME]...
                             write a self-signed certificate for local use (needs openssl)
  portico ctl COMMAND        call the admin API of a running Portico (portico ctl --help)
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

/** Runs the `portico` command with `argv` (the arguments after the command's name) and resolves with its exit code. */
export async function main(argv: string[]): Promise<number> {
  if (cluster.isWorker) return runWorker(openEventLog())
  if (argv[0] === 'ctl') {
    const { runCtl } = await import('./admin/ctl.ts')
    return runCtl(argv.slice(1))
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
      return run(values.config ?? defaultConfigFile())
    case 'validate':
      return await validate(values.config ?? defaultConfigFile())
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
    process.stderr.write(
      `portico: validate needs -c FILE (there is no ${process.env.PORTICO_CONFIG || systemConfigFile})\n`,
    )
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

/** The config `run` starts with: the file's, or without one the demo's, with the demo started; or an exit code. */
async function runConfig(file: string | undefined): Promise<{ config: Config; demo?: Demo } | number> {
  try {
    if (file) return { config: await loadConfigApart({ file }) }
    const port = demoPort(process.env.PORT)
    if (port === undefined) {
      process.stderr.write(`portico: PORT must be a port number from 0 to 65535, found "${process.env.PORT}"\n`)
      return exit.invalidConfig
    }
    const demo = await startDemo(port)
    return { config: await loadConfigApart({ config: demo.config }), demo }
  } catch (err) {
    return reportConfigError(err)
  }
}

async function run(file: string | undefined): Promise<number> {
  const events = openEventLog()
  const loaded = await runConfig(file)
  if (typeof loaded === 'number') return loaded
  const { config, demo } = loaded
  let serving: Serving
  try {
    serving = await startServing(config, file, events)
  } catch (err) {
    demo?.close()
    process.stderr.write(`portico: could not start: ${(err as Error).message}\n`)
    return exit.startFailed
  }
  // Signal handlers go in before the startup lines: whoever reads them may signal at once.
  const stopped = stopOnSignals(serving, config, file, events, demo)
  printStartup(serving, demo)
  return stopped
}

/**
 * Reloads on SIGHUP; on SIGTERM or SIGINT drains and resolves with exit 0 once every listener has
 * closed (a second signal exits at once with 1).
 */
function stopOnSignals(
  { portico, admin, metrics }: Serving,
  config: Config,
  file: string | undefined,
  events: EventLog,
  demo: Demo | undefined,
): Promise<number> {
  let graceMs = config.shutdown_grace
  process.on('SIGHUP', async () => {
    if (!file) return events.warn('SIGHUP ignored: the demo has no config file to reload')
    const result = await admin.control.reloadFromFile('SIGHUP')
    if (result.ok) graceMs = admin.control.effective.shutdown_grace
  })
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) process.exit(1)
      stopping = true
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
}

/** The startup lines on standard output: where Portico listens, and for the demo, what to try. */
function printStartup({ portico, admin, metrics }: Serving, demo: Demo | undefined): void {
  for (const url of portico.urls) process.stdout.write(`portico listening on ${url}\n`)
  if (admin.url) process.stdout.write(`portico admin API on ${admin.url}\n`)
  if (metrics) process.stdout.write(`portico metrics on ${metrics.url}\n`)
  if (demo) {
    process.stdout.write(
      `portico demo: no config file given, so round robin over three demo backends at ${demo.addresses.join(', ')}\n` +
        `  try: curl ${portico.urls[0]}/   (run \`portico run -c portico.yaml\` for a real config)\n`,
    )
  }
}

/** The demo backends `run` starts when given no config file. */
type Demo = Awaited<ReturnType<typeof startDemo>>
