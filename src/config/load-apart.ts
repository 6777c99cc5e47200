import { fork } from 'node:child_process'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, type ConfigProblem } from './problem.ts'
import type { Config } from './schema.ts'

/** What to check: a config file, or a config given as an object (the demo's). */
export type LoadRequest = { readonly file: string } | { readonly config: unknown }

/** The checked config, or what is wrong with it. */
export type LoadReply =
  | { readonly config: Config }
  | { readonly problems: readonly ConfigProblem[] }
  | { readonly failure: string }

// The child is the sibling module of this one: .ts when run from the sources, .js when built.
const child = fileURLToPath(new URL(`./load-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

/**
 * Reads and checks a config in a child process that exits once it has answered, and resolves with
 * the config; rejects with ConfigError naming every problem. The schema and YAML libraries it
 * takes (about 25 MB resident) are then never loaded by the process that serves traffic for days.
 */
export function loadConfigApart(request: LoadRequest): Promise<Config> {
  return new Promise((resolve, reject) => {
    const checker = fork(child, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The node flags of this process, less a debugger's: its port is this process's.
      execArgv: process.execArgv.filter((flag) => !flag.startsWith('--inspect')),
    })
    let answered = false
    checker.once('message', (reply: LoadReply) => {
      answered = true
      if ('config' in reply) resolve(reply.config)
      else if ('problems' in reply) reject(new ConfigError(reply.problems))
      else reject(new Error(reply.failure))
    })
    checker.once('error', reject)
    checker.once('exit', (code, signal) => {
      if (!answered) reject(new Error(`the config check stopped without an answer (${signal ?? `exit ${code}`})`))
    })
    checker.send(request)
  })
}
