import type { Socket } from 'node:net'
import type { CountryDb } from '../geo/country-db.ts'
import type { ClientRules } from '../http/client-rules.ts'
import type { EventLog } from '../log/events.ts'
import type { Link } from './chain.ts'
import { proxiedPeer } from './proxy-protocol.ts'

/** This worker's connection limits; 0 is no limit. */
export interface ConnectionLimits {
  readonly max: number
  readonly maxPerClient: number
  readonly newPerSecondPerClient: number
}

/** Why a connection was refused, as the log says it. */
type Refusal = 'denied' | 'listener_full' | 'client_full' | 'client_rate'

/** What the gate knows of one client address. */
interface ClientEntry {
  open: number
  /** Start of the current one-second window, and connections opened in it. */
  windowStart: number
  opened: number
  /** Refusals since the last log line about this client, and when that was. */
  refused: number
  loggedAt: number
}

/**
 * Admits or refuses each new connection of one listener by its client's address: the allow and
 * deny lists, the open connections of the listener and of the client, and the client's new
 * connections in the current second. A refused connection is closed before a byte is read from it
 * (no TLS handshake); refusals are counted and logged at most once per second per client.
 */
export class ConnectionGate {
  readonly #limits: ConnectionLimits
  readonly #rules: ClientRules | undefined
  readonly #geo: CountryDb | undefined
  readonly #events: EventLog
  readonly #listener: string
  readonly #clients = new Map<string, ClientEntry>()
  readonly #sweep: NodeJS.Timeout
  #open = 0
  /** Connections refused since the listener opened. */
  refused = 0

  constructor(
    limits: ConnectionLimits,
    rules: ClientRules | undefined,
    geo: CountryDb | undefined,
    events: EventLog,
    listener: string,
  ) {
    this.#limits = limits
    this.#rules = rules
    this.#geo = geo
    this.#events = events
    this.#listener = listener
    // Entries of clients with nothing open and nothing recent go, so the map holds active clients only.
    this.#sweep = setInterval(() => this.#forget(Date.now()), 10_000).unref()
  }

  /** Whether `socket`, from `client`, may be served; when true, it counts until it closes. */
  admit(socket: Socket, client: string): boolean {
    const now = Date.now()
    let entry = this.#clients.get(client)
    if (entry === undefined) {
      entry = { open: 0, windowStart: now, opened: 0, refused: 0, loggedAt: 0 }
      this.#clients.set(client, entry)
    }
    if (now - entry.windowStart >= 1000) {
      entry.windowStart = now
      entry.opened = 0
    }
    const refusal = this.#check(entry, client)
    if (refusal !== undefined) {
      this.refused++
      entry.refused++
      if (now - entry.loggedAt >= 1000) {
        this.#events.warn('connection refused', {
          listener: this.#listener,
          client,
          reason: refusal,
          refused: entry.refused,
        })
        entry.refused = 0
        entry.loggedAt = now
      }
      return false
    }
    entry.open++
    entry.opened++
    this.#open++
    const counted = entry
    socket.once('close', () => {
      counted.open--
      this.#open--
    })
    return true
  }

  #check(entry: ClientEntry, client: string): Refusal | undefined {
    const rules = this.#rules
    if (rules && !rules.admits(client, rules.needsCountry && this.#geo ? this.#geo.country(client) : ''))
      return 'denied'
    const l = this.#limits
    if (l.max > 0 && this.#open >= l.max) return 'listener_full'
    if (l.maxPerClient > 0 && entry.open >= l.maxPerClient) return 'client_full'
    if (l.newPerSecondPerClient > 0 && entry.opened >= l.newPerSecondPerClient) return 'client_rate'
    return undefined
  }

  #forget(now: number): void {
    for (const [client, e] of this.#clients) {
      if (e.open === 0 && now - e.windowStart >= 1000 && now - e.loggedAt >= 1000) this.#clients.delete(client)
    }
  }

  /** Stops the periodic sweep; the listener is closing. */
  close(): void {
    clearInterval(this.#sweep)
  }
}

/**
 * The gate's link of the connection chain: a connection `gate` refuses is destroyed and the next
 * link never sees it. After the PROXY protocol link, the gate sees the address the header names.
 */
export function guardConnections(gate: ConnectionGate): Link {
  return (next) => (socket: Socket) => {
    if (!gate.admit(socket, clientOf(socket))) return void socket.destroy()
    next(socket)
  }
}

/** The client address of a connection: a trusted PROXY header's, else the peer's; IPv4-mapped IPv6 as IPv4. */
function clientOf(socket: Socket): string {
  const address = proxiedPeer(socket)?.address ?? socket.remoteAddress ?? ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
