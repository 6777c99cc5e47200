import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { type H1Settings, h1Connections } from '../engine/index.ts'
import { ServerState } from './server.ts'
import type { ServerConnections } from './transport.ts'
import { undiciConnections } from './undici-connections.ts'

/** How connections to one server are made and kept; a change means a new connection pool. */
export interface ConnectionSettings {
  readonly connectTimeoutMs: number
  readonly keepAliveIdleMs: number
  readonly maxConnections: number
  /** TLS towards the server; undefined for plain TCP. */
  readonly tls?: BackendTlsSettings | undefined
  /** HTTP/2 to the server: offered by ALPN over TLS (the server may still pick HTTP/1.1), with prior knowledge (h2c) without. */
  readonly http2?: boolean
}

/** How Portico talks TLS to a server: what it trusts, the name it asks for, and its own certificate. */
export interface BackendTlsSettings {
  /** PEM file of the CA certificates the server's certificate must chain to; undefined for the system ones. */
  readonly ca?: string | undefined
  /** PEM files of a client certificate and its key, for servers that require one. */
  readonly cert?: string | undefined
  readonly key?: string | undefined
  /** SNI, and the name checked in the server's certificate. */
  readonly servername?: string | undefined
  /** false accepts any server certificate. */
  readonly verify: boolean
}

// The largest response head a server may send, as node's and undici's default.
const maxResponseHeadBytes = 16 * 1024

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

  /** The state for `pool/address` (`origin` is its URL), made on first use. */
  get(pool: string, origin: string, host: string, port: number, settings: ConnectionSettings): ServerState {
    const key = `${pool}/${origin}`
    const settingsKey = JSON.stringify(settings)
    const entry = this.#entries.get(key)
    if (entry && entry.settingsKey === settingsKey) return entry.state
    if (entry) void entry.state.dispatcher.close()
    const tls = settings.tls && tlsOptions(settings.tls)
    let state: ServerState
    if (settings.http2) {
      const { dispatcher, fresh } = undiciConnections(origin, settings, tls)
      state = new ServerState(dispatcher, fresh)
    } else {
      const h1: H1Settings = {
        host,
        port,
        tls,
        connectTimeoutMs: settings.connectTimeoutMs,
        keepAliveIdleMs: settings.keepAliveIdleMs,
        maxHeaderSize: maxResponseHeadBytes,
      }
      // The retry after a stale keep-alive connection goes on a connection of its own, which must
      // not meet another idle one.
      // Portico's own HTTP/1.1 client is one implementation of the transport contract.
      const connections = (max: number, once?: boolean): ServerConnections => h1Connections(h1, max, once)
      state = new ServerState(connections(settings.maxConnections), () => connections(1, true))
    }
    this.#entries.set(key, { state, settingsKey })
    return state
  }

  /** Whether `pool/origin` has live state already. */
  has(pool: string, origin: string): boolean {
    return this.#entries.has(`${pool}/${origin}`)
  }

  /** Forgets `pool/origin` and closes its connections once the requests in flight on them end. */
  remove(pool: string, origin: string): void {
    const key = `${pool}/${origin}`
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    void entry.state.dispatcher.close()
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

function tlsOptions(tls: BackendTlsSettings): ConnectionOptions {
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file))
  return {
    ca: read(tls.ca),
    cert: read(tls.cert),
    key: read(tls.key),
    servername: tls.servername,
    rejectUnauthorized: tls.verify,
  }
}
