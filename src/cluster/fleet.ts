// The admin API's view of the serving processes (its Fleet): Portico alone in this process, or the workers through the primary.

import { startAgent } from '../admin/agent.ts'
import type { Fleet } from '../admin/control.ts'
import { shared } from '../instance/shared-state.ts'
import type { EventLog } from '../log/events.ts'
import type { Portico } from '../portico.ts'
import type { Workers } from './primary.ts'

/** The admin API's view of Portico serving in this process alone. */
export function aloneFleet(portico: Portico, events: EventLog): Fleet {
  const agent = startAgent(() => portico.plan(), shared)
  return {
    urls: portico.urls,
    ask: async (request) => [agent.answer(request)],
    share: (key, value) => shared.set(key, value),
    reload(config) {
      const needRestart = portico.reload(config)
      agent.reapply()
      if (needRestart.length > 0) events.warn('changes that take effect only on restart', { keys: needRestart })
    },
  }
}

/** The admin API's view of the workers, through the primary. */
export function workerFleet(workers: Workers): Fleet {
  return {
    get urls() {
      return workers.urls
    },
    ask: (request) => workers.ask(request),
    share: (key, value) => workers.share(key, value),
    reload: (config) => workers.reload(config),
  }
}
