import type { AgentRequest } from '../admin/agent.ts'
import type { WorkerView } from '../admin/live-state.ts'
import type { Config } from '../config/schema.ts'
import type { RateMessage } from '../filters/ratelimit/machine-store.ts'
import type { LeaseMessage } from '../instance/slot-leases.ts'
import type { MetricsMessage } from '../metrics/worker-reports.ts'
import type { SessionMessage } from '../tls/cluster-sessions.ts'

/**
 * What the primary tells a worker over the IPC channel. `start` comes first, with the worker's place
 * (`index` of `count`, for its share of instance limits) and the instance's secret (made or read once
 * by the primary, the same for every worker and replacement); `state` carries one SharedState key set
 * elsewhere (every key set so far follows `start`); the `slots-*` messages lend `max_conns` slots;
 * the `rates-*` ones ask the primary for machine-wide rate-limit decisions, the `tls-session-*` ones
 * share TLS sessions; `admin` asks for the worker's live state for the admin API (answered by
 * `admin-answer`).
 */
export type ToWorker =
  | LeaseMessage
  | RateMessage
  | MetricsMessage
  | SessionMessage
  | {
      readonly type: 'start'
      readonly config: Config
      readonly leader: boolean
      readonly index: number
      readonly count: number
      readonly secret: Uint8Array
    }
  | { readonly type: 'reload'; readonly config: Config }
  | { readonly type: 'state'; readonly key: string; readonly value: unknown }
  | { readonly type: 'stop' }
  | { readonly type: 'rebalance' }
  | { readonly type: 'admin'; readonly id: number; readonly request: AgentRequest }

/** What a worker tells the primary: started or why not, whether a reload took, a SharedState key it set. */
export type ToPrimary =
  | LeaseMessage
  | RateMessage
  | MetricsMessage
  | SessionMessage
  | { readonly type: 'ready'; readonly urls: readonly string[] }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'reloaded'; readonly error?: string }
  | { readonly type: 'state'; readonly key: string; readonly value: unknown }
  | { readonly type: 'admin-answer'; readonly id: number; readonly answer: WorkerView }
