import type { EventLog } from '../log/events.ts'
import type { Pool } from '../upstream/pool/pool.ts'
import type { ServerChange } from './changes.ts'

/**
 * Applies a change another instance made to the pools of the current Plan: a drain, its end, a
 * removal. A weight or an added server is logged and left, until pools can change those at run
 * time. Returns whether the change took effect here (false also for a pool or server this
 * instance does not have).
 */
export function applyServerChange(
  pools: ReadonlyMap<string, Pool>,
  change: ServerChange,
  version: number,
  events: EventLog,
): boolean {
  const pool = pools.get(change.pool)
  let done = false
  if (pool && change.kind === 'drain') done = change.drained ? pool.drain(change.server) : pool.undrain(change.server)
  else if (pool && change.kind === 'remove') done = pool.remove(change.server)
  if (!done) events.warn('change from another instance not applied here', { version, ...change })
  return done
}
