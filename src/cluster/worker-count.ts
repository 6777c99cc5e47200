import { availableParallelism } from 'node:os'
import type { Config } from '../config/schema.ts'
import { splitAddress } from '../values/address.ts'

/**
 * How many worker processes `portico run` starts for `config`: the configured number, or for
 * `auto` one per available core, except 1 when a listener binds port 0. An ephemeral port is what
 * tests and tools ask for, and they are better served by one light process.
 */
export function workerCount(
  config: { readonly workers: Config['workers']; readonly listeners: readonly { readonly address: string }[] },
  cores = availableParallelism(),
): number {
  if (config.workers !== 'auto') return config.workers
  if (config.listeners.some((l) => splitAddress(l.address)?.port === 0)) return 1
  return cores
}
