import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { request } from './http.ts'
import { type SpawnedPortico, shebangEnv, spawnPortico, writeConfig } from './spawn.ts'

/** The token the tests' admin listeners accept, under the name `ops`. */
export const token = 'test-token-0123456789abcdef'

/** A spawned Portico with an admin listener, and a way to call it. */
export interface AdminPortico {
  readonly p: SpawnedPortico
  readonly file: string
  readonly url: string
  readonly admin: string
  /** One admin API call with the token; the body parsed as JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answers field by field.
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
}

/** A config with pool `web` of `servers`, round robin, `workers` workers and an admin listener on port 0. */
export function adminConfig(servers: readonly unknown[], workers = 2, extra: object = {}) {
  return {
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers } },
    routes: [{ pool: 'web' }],
    workers,
    access_log: { output: 'off' },
    admin: { address: '127.0.0.1:0', tokens: [{ name: 'ops', env: 'TEST_ADMIN_TOKEN' }] },
    ...extra,
  }
}

/** Runs `portico run` on `config` and waits for its listener and admin listener. */
export async function startAdminPortico(t: TestContext, config: object): Promise<AdminPortico> {
  const file = writeConfig(config)
  const p = await spawnPortico(t, ['run', '-c', file], { listeners: 1, env: { TEST_ADMIN_TOKEN: token } })
  const [, admin] = await p.waitFor(/portico admin API on (\S+)/)
  const call = async (method: string, path: string, body?: unknown) => {
    const reply = await request(`${admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    return { status: reply.status, body: JSON.parse(reply.body) }
  }
  return { p, file, url: p.urls[0]!, admin: admin!, call }
}

const cli = new URL('../../src/cli.ts', import.meta.url).pathname

/** Runs `portico ctl ARGS` against `admin`; resolves with its exit code and output. */
export async function ctl(t: TestContext, admin: string, args: string[]) {
  const child = spawn(process.execPath, [cli, 'ctl', '--admin', admin, ...args], {
    env: { ...process.env, ...shebangEnv, PORTICO_ADMIN_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c))
  child.stderr.on('data', (c: Buffer) => (out += c))
  const exited = once(child, 'close').then(([code]) => ({ code: code as number | null, out }))
  return { child, exited }
}
