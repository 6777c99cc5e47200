import type { Exchange } from '../../exchange.ts'
import type { Pool } from '../../upstream/pool/pool.ts'
import type { Rewrite } from '../rewrite.ts'
import type { Action } from './action.ts'

/** Forwards to one pool, after the route's path rewrite if it has one. */
export function toPool(pool: Pool, rewrite: Rewrite | undefined): Action {
  if (rewrite === undefined) return { run: () => pool }
  return {
    run(x: Exchange) {
      x.path = rewrite(x.path, x.paths.ignoreCase)
      return pool
    },
  }
}
