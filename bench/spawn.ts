import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { type AddressInfo, connect, createServer } from 'node:net'
import { pinned } from './pin.ts'

/** A process started for the bench: its pid, the port it serves, and how to stop it. */
export interface Started {
  readonly pid: number
  readonly port: number
  /** Where WebSocket traffic goes, when not to `port`. */
  readonly wsPort?: number
  /** Where TLS with HTTP/2 is served, when it is. */
  readonly tlsPort?: number
  stop(): Promise<void>
}

/**
 * Starts `command args` (on `cpus` when given, with `env` added to the environment) and resolves
 * once `port` reads the port from its stdout, or, when `port` is a number, once that port accepts
 * connections.
 */
export async function start(
  cpus: string | undefined,
  command: string,
  args: readonly string[],
  port: number | ((stdout: string) => number | undefined),
  env: NodeJS.ProcessEnv = {},
): Promise<Started> {
  const [cmd, all] = pinned(cpus, command, args)
  const child = spawn(cmd, all, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let output = ''
  child.stdout!.on('data', (c: Buffer) => {
    if (output.length < 1 << 16) output += c
  })
  child.stderr!.on('data', (c: Buffer) => {
    if (output.length < 1 << 16) output += c
  })
  const exited = once(child, 'exit')
  const found = await Promise.race([
    typeof port === 'number' ? accepting(port, exited) : fromOutput(child, () => port(output)),
    exited.then(([code]) => Promise.reject(new Error(`${command} exited with ${code}:\n${output}`))),
  ])
  return {
    pid: child.pid!,
    port: found,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

function fromOutput(child: ChildProcess, read: () => number | undefined): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      const port = read()
      if (port === undefined) return
      child.stdout!.off('data', check)
      child.stderr!.off('data', check)
      resolve(port)
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
  })
}

/** Resolves with `port` once it accepts a connection; retries each refusal after 20 ms. */
async function accepting(port: number, exited: Promise<unknown>): Promise<number> {
  let gone = false
  void exited.then(() => {
    gone = true
  })
  while (!gone) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return port
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return port
}

/** A free loopback port, for servers that need one named in their config. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Whether `command` is installed (found on PATH or in /usr/sbin). */
export function installed(command: string): string | undefined {
  for (const path of [command, `/usr/sbin/${command}`, `/usr/local/sbin/${command}`]) {
    try {
      execFileSync(path, ['-v'], { stdio: 'ignore' })
      return path
    } catch (err) {
      // `wrk -v` exits 1 yet is there; only a missing binary is ENOENT.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return path
    }
  }
  return undefined
}
