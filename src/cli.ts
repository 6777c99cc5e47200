#!/usr/bin/env node
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startWorkers } from './cluster/primary.ts'
import { runWorker } from './cluster/worker.ts'
import { workerCount } from './cluster/worker-count.ts'
import { ConfigError, configJsonSchema, loadConfig } from './config/load.ts'
import { type Config, configSchema } from './config/schema.ts'
import { startDemo } from './demo.ts'
import { openEventLog } from './log/events.ts'
import { type Portico, startPortico } from './portico.ts'

/** Exit codes, as documented in the README. */
const exit = { ok: 0, invalidConfig: 1, usage: 2, startFailed: 3 } as const

const help = `portico — a reverse proxy and load balancer

Usage:
  portico run [-c FILE]      run; with no FILE, a demo in front of three built-in backends
  portico validate -c FILE   check a config: exit 0 and a summary, or exit 1 and every error
  portico schema             print the config's JSON Schema (for editor completion)
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
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    process.stderr.write(`portico: ${(err as Error).message}\n\n${help}`)
    return exit.usage
  }
  const { values, positionals } = parsed
  if (values.help) return (void process.stdout.write(help), exit.ok)
  if (values.version) return (void process.stdout.write(`portico ${version()}\n`), exit.ok)
  const [command] = positionals
  switch (command) {
    case 'run':
      return run(values.config)
    case 'validate':
      return validate(values.config)
    case 'schema':
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`)
      return exit.ok
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
    },
  })
}

function validate(file: string | undefined): number {
  if (!file) {
    process.stderr.write('portico: validate needs -c FILE\n')
    return exit.usage
  }
  try {
    const config = loadConfig(file)
    const pools = Object.keys(config.pools).length
    const servers = Object.values(config.pools).reduce((n, p) => n + p.servers.length, 0)
    process.stdout.write(
      `${file}: ok (${config.listeners.length} listener(s), ${config.routes.length} route(s), ${pools} pool(s), ${servers} server(s))\n`,
    )
    return exit.ok
  } catch (err) {
    return reportConfigError(err)
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
    if (file) config = loadConfig(file)
    else {
      demo = await startDemo()
      config = configSchema.parse(demo.config)
    }
  } catch (err) {
    return reportConfigError(err)
  }
  const workers = workerCount(config)
  let portico: Pick<Portico, 'urls' | 'close'> & { reload(config: Config): void | Promise<void> }
  try {
    portico = workers > 1 ? await startWorkers(config, workers, events) : await startPortico(config, events)
  } catch (err) {
    demo?.close()
    process.stderr.write(`portico: could not start: ${(err as Error).message}\n`)
    return exit.startFailed
  }
  process.on('SIGHUP', async () => {
    if (!file) return
    try {
      const next = loadConfig(file)
      await portico.reload(next)
      config = next
      events.info('config reloaded', { file })
    } catch (err) {
      events.error('reload refused, the running config stays', { file, error: (err as Error).message })
    }
  })
  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) process.exit(1)
      stopping = true
      events.info('draining', { signal, grace_ms: config.shutdown_grace })
      void portico.close().then(() => {
        demo?.close()
        resolve(exit.ok)
      })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    // Only now that every signal has its handler: whoever waits for this line may signal at once.
    for (const url of portico.urls) process.stdout.write(`portico listening on ${url}\n`)
    if (demo) {
      process.stdout.write(
        `portico demo: no config file given, so round robin over three demo backends at ${demo.addresses.join(', ')}\n` +
          `  try: curl ${portico.urls[0]}/   (run \`portico run -c portico.yaml\` for a real config)\n`,
      )
    }
  })
}

process.exitCode = await main(process.argv.slice(2))
