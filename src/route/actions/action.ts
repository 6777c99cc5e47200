import type { Exchange } from '../../exchange.ts'
import type { ResponsePhase } from '../../filters/phase.ts'
import type { Pool } from '../../upstream/pool/pool.ts'

/** What a route does with an exchange that passed its request phases; built once per Plan. */
export interface Action {
  /**
   * Runs the action. Returns the pool to forward the exchange to, or undefined when the action has
   * answered the exchange itself (redirect, fixed answer, static file).
   */
  run(x: Exchange): Pool | undefined
  /** A response phase the action needs on the route (a split's pinning cookie); none by default. */
  readonly responsePhase?: ResponsePhase
}
