import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { Redis } from 'ioredis'
import { freePort } from './free-port.ts'
import { type SpawnedPortico, spawnPortico, writeConfig } from './spawn.ts'

/** A key prefix no other test run shares, so tests on the machine's Redis keep apart. */
export function uniquePrefix(name: string): string {
  return `portico-test:${name}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`
}

/** A redis-server of the test's own, without persistence: a restart forgets everything. */
export interface OwnRedis {
  readonly address: string
  /** Kills it and waits until it is gone. */
  stop(): Promise<void>
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>
}

/**
 * Runs `redis-server ARGS` (killed when the test ends) and resolves once its output matches
 * `ready`; `stop` kills it and waits until it is gone.
 */
export async function spawnRedis(
  t: TestContext,
  args: readonly string[],
  ready = /Ready to accept connections/,
): Promise<{ stop(): Promise<void> }> {
  const c = spawn('redis-server', [...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const stop = async () => {
    if (c.exitCode !== null || c.signalCode !== null) return
    c.kill('SIGKILL')
    await once(c, 'exit')
  }
  t.after(stop)
  let text = ''
  await new Promise<void>((resolve, reject) => {
    c.stdout!.on('data', (chunk: Buffer) => {
      text += chunk
      if (ready.test(text)) resolve()
    })
    c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${text}`)))
  })
  return { stop }
}

/** Starts a redis-server on a free port, killed when the test ends. */
export async function startOwnRedis(t: TestContext): Promise<OwnRedis> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']
  let current = await spawnRedis(t, args)
  return {
    address: `127.0.0.1:${port}`,
    stop: () => current.stop(),
    async start() {
      current = await spawnRedis(t, args)
    },
  }
}

/** Spawns `count` Portico instances (one worker each unless the config says) on the same config. */
export async function spawnInstances(t: TestContext, config: object, count = 2): Promise<SpawnedPortico[]> {
  const file = writeConfig(config)
  const instances: SpawnedPortico[] = []
  for (let i = 0; i < count; i++) instances.push(await spawnPortico(t, ['run', '-c', file], { listeners: 1 }))
  return instances
}

/** A listener on port 0 and no access log: what every spawned instance of these tests uses. */
export const quietListener = { listeners: [{ address: '127.0.0.1:0' }], access_log: { output: 'off' } }

/**
 * Resolves once `count` processes have told the group of `prefix` that they are in (with any
 * `share`, a process tells once it is connected and listening), asking the Redis at `address`.
 */
export async function groupJoined(prefix: string, count: number, address = '127.0.0.1:6379'): Promise<void> {
  const client = new Redis(`redis://${address}`)
  try {
    while ((await client.hlen(`${prefix}members`)) < count) await new Promise((resolve) => setImmediate(resolve))
  } finally {
    client.disconnect()
  }
}
