import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { stringify } from 'yaml'

const cli = new URL('../../src/cli.ts', import.meta.url).pathname
// Portico runs as the `portico` command does: with the environment and node flags of its shebang line.
const shebang = readFileSync(cli, 'utf8').split('\n', 1)[0]!.split(' ')
const nodeFlags = shebang.filter((word) => word.startsWith('--'))
/** The environment the `portico` command sets for node (malloc's settings). */
export const shebangEnv = Object.fromEntries(
  shebang.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=')),
)

/** A `portico` process started by a test. */
export interface SpawnedPortico {
  readonly child: ChildProcess
  /** The URLs from its `portico listening on …` lines. */
  readonly urls: string[]
  /** Everything it wrote to stdout and stderr so far. */
  output(): string
  /**
   * Resolves once its output (all of it, from the start) matches `pattern`, with the match;
   * rejects if it exits first.
   */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>
  /** Resolves with the exit code once it has exited and its output is all read. */
  exited: Promise<number | null>
}

/** Writes `config` (an object, or YAML text) to a temporary file and returns its path. */
export function writeConfig(config: object | string, name = 'portico.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-test-'))
  const file = join(dir, name)
  writeFileSync(file, typeof config === 'string' ? config : stringify(config))
  return file
}

/**
 * Runs `node src/cli.ts ARGS` (or `executable ARGS`) and, when `listeners` is given, waits for that many startup lines.
 * The process is killed when the test ends if it is still running.
 */
export async function spawnPortico(
  t: TestContext,
  args: string[],
  options: { listeners?: number; env?: NodeJS.ProcessEnv; executable?: string } = {},
): Promise<SpawnedPortico> {
  // An executable (dist/portico-linux-x64) carries its node flags and environment itself.
  const [file, ...before] = options.executable ? [options.executable] : [process.execPath, ...nodeFlags, cli]
  const child = spawn(file!, [...before, ...args], {
    // No config file by default, whatever the machine keeps in /etc/portico: no file can be under /dev/null.
    env: {
      ...process.env,
      ...(options.executable ? {} : shebangEnv),
      PORTICO_CONFIG: '/dev/null/portico.yaml',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  const urls: string[] = []
  const waiters = new Set<() => void>()
  // 'close', not 'exit': it comes after the last output is read.
  const exited = once(child, 'close').then(([code]) => code as number | null)
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const wanted = options.listeners ?? 0
  await new Promise<void>((resolve, reject) => {
    if (wanted === 0) resolve()
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      for (const m of text.matchAll(/portico listening on (\S+)/g)) if (!urls.includes(m[1]!)) urls.push(m[1]!)
      if (wanted > 0 && urls.length >= wanted) resolve()
      for (const check of waiters) check()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then((code) => reject(new Error(`portico exited with ${code} before listening:\n${text}`)))
  }).catch((err) => {
    if (wanted > 0) throw err
  })
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = text.match(pattern)
        if (m) {
          waiters.delete(check)
          resolve(m)
        }
      }
      waiters.add(check)
      check()
      void exited.then((code) => {
        if (waiters.delete(check)) reject(new Error(`portico exited with ${code} before printing ${pattern}:\n${text}`))
      })
    })
  return { child, urls, output: () => text, waitFor, exited }
}
