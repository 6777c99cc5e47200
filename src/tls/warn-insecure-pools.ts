import type { Config } from '../config/schema.ts'
import type { EventLog } from '../log/events.ts'

/** Warns, once per pool, that a pool accepts any server certificate (`tls.verify: false`). */
export function warnInsecurePools(config: Config, events: EventLog): void {
  for (const [name, pool] of Object.entries(config.pools)) {
    if (pool.tls?.verify === false) {
      events.warn(
        'TLS to the servers of this pool is not verified (tls.verify: false): anyone on the path can read and change its traffic',
        {
          pool: name,
        },
      )
    }
  }
}
