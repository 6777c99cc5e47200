import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** Which CPUs each side of a run gets, as `taskset -c` lists; undefined when pinning is not possible. */
export interface Pinning {
  /** The proxy under test, alone. */
  readonly proxy: string
  /** The load generator and the origin, together. */
  readonly rest: string
}

/**
 * The CPU split: the proxy alone on the last core, everything else on the others; undefined with
 * one core or without `taskset`.
 */
export function pinning(): Pinning | undefined {
  const cores = availableParallelism()
  if (cores < 2) return undefined
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  return { proxy: String(cores - 1), rest: cores === 2 ? '0' : `0-${cores - 2}` }
}

/** `command args` prefixed with `taskset -c cpus` when `cpus` is given. */
export function pinned(cpus: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpus === undefined ? [command, [...args]] : ['taskset', ['-c', cpus, command, ...args]]
}
