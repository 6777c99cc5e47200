import type { Pool } from '../upstream/pool/pool.ts'
import type { ServerChange } from './changes.ts'

/**
 * Applies a change another instance made to the pools of the current Plan, at once: a drain, its
 * end, a removal. A weight or an added server changes the config, so the admin control of the
 * instance applies those (src/admin/group-changes.ts: its overlay, then a reload of the pools in
 * every worker); it records the drains and removals too, so that a reload keeps them, and it logs
 * a change that does not fit the instance's config. Here, a pool or server this process does not
 * have (removed already, or never there) is passed over. Returns whether the change took effect.
 */
export function applyServerChange(pools: ReadonlyMap<string, Pool>, change: ServerChange): boolean {
  const pool = pools.get(change.pool)
  if (!pool) return false
  if (change.kind === 'drain') return change.drained ? pool.drain(change.server) : pool.undrain(change.server)
  if (change.kind === 'remove') return pool.remove(change.server)
  return false
}
