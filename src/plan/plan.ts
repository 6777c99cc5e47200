import type { Config } from '../config/schema.ts'
import type { CountryDb } from '../geo/country-db.ts'
import type { AddressSet } from '../http/cidr.ts'
import type { AccessLog } from '../log/access.ts'
import type { Meter } from '../metrics/meter.ts'
import type { RouteTable } from '../route/table.ts'
import type { Pool } from '../upstream/pool/pool.ts'

/** Client-side limits and timeouts, in bytes and milliseconds. */
export interface ClientSettings {
  readonly maxHeaderBytes: number
  readonly maxUriBytes: number
  readonly requestHeadersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveIdleMs: number
  /** On shutdown, how long an HTTP/1.1 connection must have been idle before it is closed. */
  readonly drainIdleMs: number
  readonly websocketIdleMs: number
}

/**
 * Everything built from one config, immutable. A reload builds a new Plan and swaps one reference;
 * exchanges in flight finish on the Plan they started with.
 */
export interface Plan {
  readonly config: Config
  readonly routes: RouteTable
  readonly pools: ReadonlyMap<string, Pool>
  readonly trusted: AddressSet
  readonly geo: CountryDb | undefined
  readonly client: ClientSettings
  readonly accessLog: AccessLog
  /** Where finished exchanges are counted for metrics; undefined when metrics are off. */
  readonly meter: Meter | undefined
  readonly shutdownGraceMs: number
}
