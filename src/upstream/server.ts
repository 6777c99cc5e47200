import type { Pool as UndiciPool } from 'undici'

/**
 * Live state of one server, kept outside the Plan in a registry keyed by `pool/address`, so a
 * reload that keeps the server keeps its connections and counters.
 */
export interface ServerState {
  /** `http://host:port` of this server. */
  readonly origin: string
  /** Requests in flight to this server right now. */
  inFlight: number
  /** The keep-alive connection pool to this server. */
  readonly dispatcher: UndiciPool
}

/** One backend address in a pool, as the Plan sees it. */
export interface Server {
  /** `host:port`, as configured. */
  readonly address: string
  readonly host: string
  readonly port: number
  /** Relative share of requests; 0 takes none. */
  readonly weight: number
  readonly state: ServerState
}
