import type { EventLog } from '../log/events.ts'
import type { Pool } from '../upstream/pool/pool.ts'
import type { ServerChange } from './changes.ts'

/**
 * Applies a change another instance made to the pools of the current Plan, at once: a drain, its
 * end, a removal. A weight or an added server changes the config, so the admin control of the
 * instance applies those (src/admin/group-changes.ts: its overlay, then a reload of the pools in
 * every worker), and records the drains and removals too, so that a reload keeps them. Returns
 * whether the change took effect here; a pool or server this process does not have is logged.
 */
export function applyServerChange(
  pools: ReadonlyMap<string, Pool>,
  change: ServerChange,
  version: number,
  events: EventLog,
): boolean {
  if (change.kind === 'weight' || change.kind === 'add') return false
  const pool = pools.get(change.pool)
  let done = false
  if (pool && change.kind === 'drain') done = change.drained ? pool.drain(change.server) : pool.undrain(change.server)
  // A server the admin control has already taken out by a reload is as good as removed.
  else if (pool && change.kind === 'remove') done = pool.remove(change.server) || true
  if (!done) events.warn('change from another instance not applied here', { version, ...change })
  return done
}
