import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import type { ChangeChannel, ServerChange } from '../shared-state/changes.ts'
import { InstanceGroup } from '../shared-state/group.ts'
import { type Member, readMembers } from '../shared-state/members.ts'
import { RedisLinks } from '../shared-state/redis/link.ts'

/**
 * The admin side's view of the instance's group (the `redis` section), on its own link to Redis:
 * the process that serves the admin API is the primary of several workers or Portico alone, and
 * either way it publishes the changes made through the API and applies to its overlay those made
 * elsewhere. Read once, at start: a reload does not move it to another Redis.
 */
export interface AdminGroup {
  /** Where admin changes go to and come from; undefined unless `redis.share` has "changes". */
  readonly changes: ChangeChannel | undefined
  /** Sends a change made through this API, applied here already, to the other instances (when shared). */
  publish(change: ServerChange): void
  /** Calls `apply` with each change another instance made, in version order (when shared). */
  follow(apply: (change: ServerChange, version: number) => Promise<void>): void
  /** The processes of every instance in the group; undefined when `redis.share` is empty. */
  readonly members: (() => Promise<Member[]>) | undefined
  close(): void
}

/**
 * Joins the group of `config`, or nothing when it shares nothing: on `shared`, the links of
 * Portico serving in this process (then a loss is logged once, and closing leaves them to
 * Portico), or on links of its own (the primary of several workers).
 */
export function joinGroup(config: Config, events: EventLog, shared?: RedisLinks): AdminGroup {
  const links = shared ?? new RedisLinks()
  const share = config.redis.share
  const changes = new InstanceGroup(links, events).changes(config.redis)
  const link = share.length > 0 ? links.get(config.redis, events) : undefined
  return {
    changes,
    publish: (change) => void changes?.publish(change),
    follow: (apply) =>
      changes?.onChange((change, version) =>
        apply(change, version).catch((err: Error) =>
          events.error('change from another instance refused', { version, ...change, error: err.message }),
        ),
      ),
    members: link && (() => readMembers(link)),
    close: () => {
      if (!shared) links.close()
    },
  }
}

/** The group's instances, each with its processes' versions and load; null when the instance shares nothing. */
export async function groupView(group: AdminGroup | undefined) {
  if (!group?.members) return null
  const instances = new Map<string, { instance: string; host: string; processes: unknown[] }>()
  for (const m of await group.members()) {
    let i = instances.get(m.instance)
    if (!i) instances.set(m.instance, (i = { instance: m.instance, host: m.host, processes: [] }))
    i.processes.push({
      pid: m.pid,
      version: m.version,
      started: new Date(m.started).toISOString(),
      in_flight: m.inFlight,
      queued: m.queued,
      seen: new Date(m.seen).toISOString(),
    })
  }
  return { instances: [...instances.values()] }
}
