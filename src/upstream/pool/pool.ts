import type { Exchange } from '../../exchange.ts'
import type { LeasingPool, SlotLeases } from '../../instance/slot-leases.ts'
import type { EventLog } from '../../log/events.ts'
import type { AttemptResult, Balancer } from '../balancers/balancer.ts'
import { OutlierDetector } from '../health/outlier.ts'
import { Queue } from '../queue.ts'
import type { Server } from '../server.ts'
import { Availability } from './availability.ts'
import { aloneMap, CheckVerdicts } from './check-verdicts.ts'
import { Ejections } from './ejections.ts'
import type { BackendTimeouts, PoolDeps, PoolSettings, RetrySettings, Ticket } from './settings.ts'
import { SlowStart } from './slow-start.ts'

export type { BackendTimeouts, PoolDeps, PoolSettings, RetrySettings, Ticket } from './settings.ts'

// size: the class runs past 250 lines, and the file past 300, because its public methods are the
// pool's whole contract, each with its documentation; every job behind them (availability, slow
// start, ejections, check verdicts, settings) is a piece of its own in this folder.

/**
 * A named set of servers. The pool decides which servers are usable (availability.ts: healthy,
 * not ejected, not draining, under `max_conns`; and not yet tried by the exchange, which the
 * caller passes); its balancer chooses among them. When every usable server is full, requests
 * wait in a bounded FIFO queue and start the moment a slot frees. Health checks (check-verdicts.ts)
 * and outlier detection (ejections.ts) report to the pool; live state stays on each server's
 * `ServerState`, so a reload keeps it.
 */
export class Pool implements LeasingPool {
  readonly name: string
  readonly hostHeader: string | undefined
  readonly timeouts: BackendTimeouts
  readonly retries: RetrySettings
  readonly #settings: PoolSettings
  readonly #balancer: Balancer
  readonly #events: EventLog
  readonly #now: () => number
  readonly #forget: ((server: Server) => void) | undefined
  readonly #queue: Queue<Ticket>
  readonly #availability: Availability
  readonly #slowStart: SlowStart
  readonly #outlier: OutlierDetector
  readonly #ejections: Ejections
  /** The active checks' verdicts, when the pool has active checks. */
  readonly #verdicts: CheckVerdicts | undefined
  /** The leases of `max_conns` slots, when this is a worker of several and a server has `max_conns`. */
  readonly #leases: SlotLeases | undefined
  readonly #retryAfter: Readonly<Record<string, string>>
  #servers: readonly Server[]
  #inFlight = 0
  /** The pool of the next Plan, once a reload has replaced this one: it took over the queue. */
  #successor: Pool | undefined

  constructor(name: string, servers: readonly Server[], balancer: Balancer, settings: PoolSettings, deps: PoolDeps) {
    this.name = name
    this.#servers = servers
    this.#balancer = balancer
    this.#settings = settings
    this.hostHeader = settings.hostHeader
    this.timeouts = settings.timeouts
    this.retries = settings.retries
    this.#events = deps.events
    const now = deps.now ?? perfNow
    this.#now = now
    this.#forget = deps.forget
    this.#outlier = new OutlierDetector(settings.outlier)
    this.#retryAfter = { 'retry-after': String(settings.retryAfterS) }
    this.#queue = new Queue<Ticket>(settings.queueLength, settings.queueTimeoutMs, (t) => this.#expired(t), now)
    this.#slowStart = new SlowStart(settings.slowStartMs, now)
    for (const s of settings.joining) this.#slowStart.start(s)
    const checked = settings.active !== undefined
    this.#availability = new Availability(name, { ...settings, checked }, deps.events)
    this.#ejections = new Ejections(
      name,
      { maxEjectedShare: settings.outlier.maxEjectedShare, checked },
      { events: deps.events, now, back: (s) => this.#recovered(s) },
    )
    const target = {
      servers: () => this.#servers,
      endEjection: (s: Server) => this.#ejections.end(s),
      recovered: (s: Server) => this.#slowStart.start(s),
      settle: () => this.#settle(),
    }
    this.#verdicts =
      settings.active && new CheckVerdicts(name, settings.active, deps.shared ?? aloneMap(), deps.events, target)
    this.#availability.recount(servers)
    this.#verdicts?.start(servers)
    this.#leases = deps.leases && servers.some((s) => s.maxConns > 0) ? deps.leases : undefined
    for (const s of servers) {
      s.state.lease = this.#leases && s.maxConns > 0 ? this.#leases.lease(`${name}/${s.address}`) : undefined
    }
    this.#leases?.watch(this)
  }

  /** The pool's servers now: draining ones included, removed ones not. */
  get servers(): readonly Server[] {
    return this.#servers
  }

  /** Where the pool and its requests say what happens to them. */
  get events(): EventLog {
    return this.#events
  }

  /** Requests in flight to this pool. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Requests waiting for a server. */
  get queued(): number {
    return this.#queue.length
  }

  /**
   * A server for the next attempt, never one in `tried` unless no other is usable; undefined when
   * none is usable or all are full. A returned server counts as busy until `release`. `tried` is
   * the exchange's own: the pool keeps nothing of one exchange between calls.
   */
  pick(x: Exchange, tried: readonly Server[] | undefined): Server | undefined {
    if (this.#inFlight >= this.#settings.maxInFlight) return undefined
    this.#slowStart.advance(this.#servers)
    const available = this.#availability
    const first = available.first
    let s = this.#balancer.pick(x, tried ? untried(first, tried) : first)
    if (!s && tried !== undefined) {
      // Every usable primary was tried (one is down and not yet out): a healthy backup takes the
      // retry before a server that already failed this exchange is tried again.
      if (!available.backupTurn) s = this.#balancer.pick(x, untried(available.backup, tried))
      s ??= this.#balancer.pick(x, first)
    }
    if (s) {
      s.state.inFlight++
      this.#inFlight++
    }
    return s
  }

  /**
   * Finds a server for `ticket` and starts it there, now or, when every usable server is full,
   * once a slot frees. A full queue, an expired wait, or no usable server at all fails the ticket
   * with a 503 code and `Retry-After`. A ticket whose client leaves is dropped from the queue.
   */
  acquire(ticket: Ticket): void {
    const s = this.pick(ticket.x, ticket.tried)
    if (s) {
      ticket.start(s, this)
      return
    }
    if (!this.#availability.couldServe(this.#servers, ticket.tried)) {
      ticket.fail('no_server', this.#retryAfter)
      return
    }
    ticket.x.queueDepth = this.#queue.length
    if (!this.#queue.push(ticket)) {
      ticket.fail('queue_full', this.#retryAfter)
      return
    }
    this.#leases?.queueChanged(this)
    ticket.x.abort.signal.addEventListener(
      'abort',
      () => {
        if (this.#queue.remove(ticket)) this.#leases?.queueChanged(this)
      },
      { once: true },
    )
  }

  /**
   * Ends an attempt that `pick` began: frees its slot, feeds latency and passive health, starts a
   * queued request. `now` is the time it ended, when the caller has read the clock already.
   */
  release(s: Server, result: AttemptResult, now = this.#now()): void {
    const state = s.state
    state.inFlight--
    this.#inFlight--
    // Under demand from other workers, the freed slot may go back to the primary before a queued request here takes it.
    if (state.lease) this.#leases?.released(this, state.lease, state.inFlight)
    if (result.latencyMs !== undefined) {
      // Weight 0.3 on the newest sample: follows a change within a few requests, smooths one outlier.
      state.latencyEwmaMs =
        state.latencyEwmaMs === 0 ? result.latencyMs : state.latencyEwmaMs * 0.7 + result.latencyMs * 0.3
    }
    this.#balancer.release?.(s, result)
    const ejectFor = this.#outlier.record(state, result, now)
    if (ejectFor > 0 && this.#ejections.eject(this.#servers, s, ejectFor, result, now)) {
      this.#availability.recount(this.#servers)
    }
    this.#dispatch()
    // The slot is free for the pools of later Plans too, which share this server's state.
    for (let next = this.#successor; next; next = next.#successor) next.#dispatch()
  }

  /**
   * One active check ended, in the leader process: applies `rise`/`fall`, and shares a change of
   * health with every process, this one included, which applies it at once.
   */
  onProbe(server: Server, failure: string | undefined): void {
    this.#verdicts?.onProbe(server, failure)
  }

  /**
   * Marks the server at `address` draining: it takes no new requests, those in flight finish.
   * False when the pool has no such server.
   */
  drain(address: string): boolean {
    const s = this.#servers.find((c) => c.address === address)
    if (!s) return false
    if (!s.state.draining) {
      s.state.draining = true
      s.state.changed('admin', 'draining')
      this.#events.info('server draining', { pool: this.name, server: address })
      this.#availability.recount(this.#servers)
    }
    return true
  }

  /**
   * Ends the draining of the server at `address`: it takes new requests again, ramping up under
   * slow start, and queued requests may start on it. False when the pool has no such server.
   */
  undrain(address: string): boolean {
    const s = this.#servers.find((c) => c.address === address)
    if (!s) return false
    if (s.state.draining) {
      s.state.draining = false
      s.state.changed('admin', 'drain ended')
      this.#slowStart.start(s)
      this.#events.info('server draining ended', { pool: this.name, server: address })
      this.#settle()
    }
    return true
  }

  /**
   * Takes the server at `address` out of the pool: no new requests; requests in flight to it
   * finish on their connections, which close after them. False when the pool has no such server.
   */
  remove(address: string): boolean {
    const s = this.#servers.find((c) => c.address === address)
    if (!s) return false
    this.drain(address)
    this.#servers = this.#servers.filter((c) => c !== s)
    this.#verdicts?.forget(s)
    this.#balancer.update?.(this.#servers)
    this.#forget?.(s)
    this.#events.info('server removed', { pool: this.name, server: address })
    this.#settle()
    return true
  }

  /**
   * Stops active checks and their verdicts; called when a new Plan replaces this pool. Requests in
   * flight go on. When the new Plan has a pool of the same name, `successor`, queued requests move
   * to its queue, in order, and slots freed here start them there.
   */
  stop(successor?: Pool): void {
    this.#verdicts?.stop(this.#servers, successor?.servers)
    if (!successor) return
    this.#successor = successor
    for (let ticket = this.#queue.peek(); ticket; ticket = this.#queue.peek()) {
      this.#queue.shift()
      successor.acquire(ticket)
    }
  }

  /** The servers whose `max_conns` slots this worker leases (LeasingPool). */
  *leased(): Iterable<{ readonly lease: NonNullable<Server['state']['lease']>; readonly inFlight: number }> {
    for (const s of this.#servers) if (s.state.lease) yield { lease: s.state.lease, inFlight: s.state.inFlight }
  }

  /** The primary lent this worker more slots (LeasingPool): queued requests may start. */
  granted(): void {
    this.#dispatch()
  }

  /** A server is back from an ejection: it ramps up, modes are recounted, queued requests may start. */
  #recovered(s: Server): void {
    this.#slowStart.start(s)
    this.#settle()
  }

  /** After a change of health or membership: recounts the modes and starts what waits. */
  #settle(): void {
    this.#availability.recount(this.#servers)
    this.#dispatch()
  }

  /** Starts queued requests while servers have free slots, oldest first. */
  #dispatch(): void {
    for (let ticket = this.#queue.peek(); ticket; ticket = this.#queue.peek()) {
      const s = this.pick(ticket.x, ticket.tried)
      if (!s && this.#availability.couldServe(this.#servers, ticket.tried)) return
      ticket.x.queueMs = this.#queue.shift()
      this.#leases?.queueChanged(this)
      if (s) ticket.start(s, this)
      else ticket.fail('no_server', this.#retryAfter)
    }
  }

  #expired(ticket: Ticket): void {
    this.#leases?.queueChanged(this)
    ticket.x.queueMs = this.#settings.queueTimeoutMs
    ticket.fail('queue_timeout', this.#retryAfter)
  }
}

/** `usable` without the servers this exchange tried already; made only for a retry. */
function untried(usable: (s: Server) => boolean, tried: readonly Server[]): (s: Server) => boolean {
  return (s) => usable(s) && !tried.includes(s)
}

const perfNow = () => performance.now()
