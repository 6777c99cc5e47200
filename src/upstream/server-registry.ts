import { Client, type Dispatcher, Pool as UndiciPool } from 'undici'
import type { ServerState } from './server.ts'

/** How connections to one server are made and kept; a change means a new connection pool. */
export interface ConnectionSettings {
  readonly connectTimeoutMs: number
  readonly keepAliveIdleMs: number
  readonly maxConnections: number
}

interface Entry {
  readonly state: ServerState
  readonly settingsKey: string
}

/**
 * Live server state keyed by `pool/address`, kept across reloads: a server that survives a reload
 * keeps its connections and counters. Servers a new Plan no longer has are closed gracefully.
 */
export class ServerRegistry {
  readonly #entries = new Map<string, Entry>()

  /** The state for `pool/address`, made on first use. */
  get(pool: string, origin: string, settings: ConnectionSettings): ServerState {
    const key = `${pool}/${origin}`
    const settingsKey = `${settings.connectTimeoutMs}/${settings.keepAliveIdleMs}/${settings.maxConnections}`
    const entry = this.#entries.get(key)
    if (entry && entry.settingsKey === settingsKey) return entry.state
    if (entry) void entry.state.dispatcher.close()
    const state: ServerState = {
      origin,
      inFlight: 0,
      dispatcher: new UndiciPool(origin, {
        connections: settings.maxConnections,
        connectTimeout: settings.connectTimeoutMs,
        keepAliveTimeout: settings.keepAliveIdleMs,
        // A server's own `Keep-Alive: timeout=` may shorten, never lengthen, the idle time (USERS #1).
        keepAliveMaxTimeout: settings.keepAliveIdleMs,
        pipelining: 1,
        strictContentLength: true,
      }),
    }
    this.#entries.set(key, { state, settingsKey })
    return state
  }

  /** Closes every server not in `keep` (keys `pool/origin`), letting requests in flight finish. */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, entry] of this.#entries) {
      if (keep.has(key)) continue
      this.#entries.delete(key)
      void entry.state.dispatcher.close()
    }
  }

  /** Closes every connection, gracefully within the promise, then at once. */
  async close(): Promise<void> {
    const states = [...this.#entries.values()].map((e) => e.state.dispatcher)
    this.#entries.clear()
    await Promise.all(states.map((d) => d.destroy()))
  }
}

/**
 * Sends one request to `origin` on a connection of its own, closed when the request ends: the
 * retry after a stale keep-alive connection, which must not meet another idle one.
 */
export function dispatchFresh(
  origin: string,
  connectTimeoutMs: number,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): void {
  const client = new Client(origin, { connectTimeout: connectTimeoutMs, strictContentLength: true })
  client.dispatch({ ...options, reset: true }, handler)
  void client.close()
}
