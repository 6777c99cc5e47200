import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import type { ServerChange } from '../shared-state/changes.ts'
import { entryOf, type Overlay } from './overlay.ts'

/**
 * Records in `overlay` a change another instance made, as this instance's API would have made it.
 * Returns `config` when the pools must be built again (a weight, an added or removed server),
 * `drains` when only the drained list changed, or undefined when the change does not fit here (no
 * such pool or server, or a server already there).
 */
export function overlayChange(
  overlay: Overlay,
  running: Config,
  change: ServerChange,
): 'config' | 'drains' | undefined {
  const servers = running.pools[change.pool]?.servers.map(entryOf)
  if (!servers) return undefined
  const has = servers.some((s) => s.address === change.server)
  switch (change.kind) {
    case 'drain':
      if (!has) return undefined
      if (change.drained) overlay.drain(change.pool, change.server)
      else overlay.enable(change.pool, change.server)
      return 'drains'
    case 'weight':
      if (!has) return undefined
      overlay.setWeight(change.pool, change.server, change.weight)
      return 'config'
    case 'add':
      if (has) return undefined
      overlay.add(change.pool, change.server, change.weight ?? 1)
      return 'config'
    case 'remove':
      // The last server of a pool stays, as through the API.
      if (!has || servers.length === 1) return undefined
      overlay.remove(change.pool, change.server)
      return 'config'
  }
}

/** What applying a change from the group needs of the admin control. */
export interface GroupTarget {
  readonly overlay: Overlay
  /** The config running now: the file's with the overlay's changes. */
  readonly running: () => Config
  /** Tells every worker the drained list, after building its pools again when `config` is true. */
  readonly update: (config: boolean) => Promise<void>
  readonly events: EventLog
}

/**
 * Applies a change another instance made, as this instance's API would have made it, and logs it as
 * an `admin change` by `instance (change N)`; one that does not fit here is logged and left.
 */
export async function applyFromGroup(target: GroupTarget, change: ServerChange, version: number): Promise<void> {
  const effect = overlayChange(target.overlay, target.running(), change)
  if (!effect) return target.events.warn('change from another instance not applied here', { version, ...change })
  await target.update(effect === 'config')
  target.events.info('admin change', { by: `instance (change ${version})`, op: change.kind, ...change })
}
