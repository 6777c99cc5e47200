import type { ChangeTarget, ServerChanges } from './server-changes.ts'

/** A change of the servers discovery found for one pool (docs/discovery.md). */
export interface Discovered {
  readonly pool: string
  /** Servers found anew: the config's `expand` gives them already. */
  readonly joined: readonly string[]
  /** Servers no longer found: `expand` still gives them until `forget()`. */
  readonly leaving: readonly string[]
  /** Drops the leaving servers from `expand`. */
  readonly forget: () => void
}

/**
 * Applies a change of the servers discovery found as the API adds and removes servers: those that
 * joined take requests at once; those leaving drain in every worker until none has a request in
 * flight to them or `drainMs` passes, then leave every worker.
 */
export async function applyDiscovered(
  target: ChangeTarget,
  changes: ServerChanges,
  { pool, joined, leaving, forget }: Discovered,
  drainMs: number,
): Promise<void> {
  await target.apply()
  if (leaving.length > 0) {
    await changes.drainUntilEmpty(pool, leaving, drainMs)
    forget()
    for (const address of leaving) target.overlay.enable(pool, address)
    await target.apply()
    target.shareDrains()
  }
  target.log('discovery', { op: 'discovered', pool, joined, left: leaving })
}
