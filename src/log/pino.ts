import { createRequire } from 'node:module'
import type { pino as Pino } from 'pino'

let loaded: typeof Pino | undefined

/**
 * pino, loaded on first use rather than at startup: a Portico whose access log is off or pretty, and whose event
 * log has nothing to say yet, never loads it.
 */
export function lazyPino(): typeof Pino {
  loaded ??= (createRequire(import.meta.url)('pino') as { pino: typeof Pino }).pino
  return loaded
}
