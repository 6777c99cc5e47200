import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'
import type { ChangeChannel } from '../shared-state/changes.ts'
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
  /** The processes of every instance in the group; undefined when `redis.share` is empty. */
  readonly members: (() => Promise<Member[]>) | undefined
  close(): void
}

/** Joins the group of `config`, or nothing when it shares nothing. */
export function joinGroup(config: Config, events: EventLog): AdminGroup {
  const links = new RedisLinks()
  const share = config.redis.share
  const changes = new InstanceGroup(links, events).changes(config.redis)
  const link = share.length > 0 ? links.get(config.redis, events) : undefined
  return {
    changes,
    members: link && (() => readMembers(link)),
    close: () => links.close(),
  }
}
