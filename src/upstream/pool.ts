import type { FailureCode } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { SharedState } from '../instance/shared-state.ts'
import type { LeasingPool, SlotLeases } from '../instance/slot-leases.ts'
import type { EventLog } from '../log/events.ts'
import type { AttemptResult, Balancer } from './balancers/balancer.ts'
import { type ActiveCheckSettings, ActiveChecks, type ProbeListener } from './health/active.ts'
import { OutlierDetector, type OutlierSettings } from './health/outlier.ts'
import { checkVerdict } from './health/verdict.ts'
import { Queue } from './queue.ts'
import type { RetryBudget } from './retry-budget.ts'
import type { Health, Server } from './server.ts'

/** Timeouts towards one pool's servers, in milliseconds. */
export interface BackendTimeouts {
  readonly connectMs: number
  readonly responseHeadersMs: number
  readonly bodyIdleMs: number
}

/** When and how often a failed attempt is tried again on another server. */
export interface RetrySettings {
  /** Most attempts per request, the first included. */
  readonly attempts: number
  /** Time an attempt may wait for response headers before it fails with a timeout, in milliseconds. */
  readonly perTryMs: number
  readonly budget: RetryBudget
}

/** Everything a pool is built from besides its servers and balancer; durations in milliseconds. */
export interface PoolSettings {
  readonly hostHeader: string | undefined
  readonly timeouts: BackendTimeouts
  readonly retries: RetrySettings
  /** Most requests in flight to the whole pool; further ones queue. */
  readonly maxInFlight: number
  readonly queueLength: number
  readonly queueTimeoutMs: number
  /** `Retry-After` seconds on the pool's 503 answers. */
  readonly retryAfterS: number
  /** Time over which a server that joins or recovers ramps up to its full weight; 0 for at once. */
  readonly slowStartMs: number
  /** Servers new to a pool that already served: they ramp up under slow start. */
  readonly joining: readonly Server[]
  /**
   * Below this share of healthy primary servers, with no healthy backup either, health is ignored
   * (panic mode); 0, the default, never panics.
   */
  readonly panicThreshold: number
  readonly active: ActiveCheckSettings | undefined
  /** Whether a server takes traffic before its first active check has answered. */
  readonly unknownTakesTraffic: boolean
  readonly outlier: OutlierSettings
}

/** What waits for a server: told to start on one, or why it will get none. */
export interface Ticket {
  readonly x: Exchange
  /** The servers this exchange already tried; none of them is chosen unless no other is usable. */
  readonly tried: readonly Server[] | undefined
  /** Starts on `server`, picked by `pool`: the pool it was queued in, or the one that took over its queue on reload. */
  start(server: Server, pool: Pool): void
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void
}

/** What a pool needs from the process: the event log, the clock, and a way to forget removed servers. */
export interface PoolDeps {
  readonly events: EventLog
  /** Milliseconds on a monotonic clock; `performance.now` unless a test injects its own. */
  readonly now?: () => number
  /** Called when `remove` takes a server out for good. */
  readonly forget?: (server: Server) => void
  /**
   * State shared by every process of the machine: only its leader runs the active checks, and
   * their verdicts reach every process through it. A lone leader of the pool's own unless given.
   */
  readonly shared?: SharedState
  /**
   * With several workers, the `max_conns` slots this worker holds: a server is full when its
   * requests in flight from here reach them. Default: this process has all of `max_conns`.
   */
  readonly leases?: SlotLeases
}

/** An active check verdict as the leader shares it, under `health/<pool>/<address>`; undefined once forgotten. */
interface SharedVerdict {
  readonly health: Health
  /** What the check saw: `check passed`, `status 503`, `ECONNREFUSED`, … */
  readonly reason: string
  /** Counts passing checks of a healthy server, so that each one reaches every process and ends an ejection there. */
  readonly pass?: number
}

/**
 * A named set of servers. The pool decides which servers are usable (healthy, not ejected, not
 * draining, under `max_conns`, not yet tried by this exchange); its balancer chooses among them.
 * When every usable server is full, requests wait in a bounded FIFO queue and start the moment a
 * slot frees. Health checks and outlier detection report to the pool; live state stays on each
 * server's `ServerState`, so a reload keeps it.
 */
export class Pool implements ProbeListener, LeasingPool {
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
  /** Whether the pool has active checks, run here or in the leader process. */
  readonly #checked: boolean
  /** The active checks, in the leader process only. */
  readonly #checks: ActiveChecks | undefined
  readonly #shared: SharedState
  /** `health/<pool>/`: the prefix of this pool's verdicts in the shared state. */
  readonly #healthKey: string
  readonly #unwatch: (() => void) | undefined
  readonly #outlier: OutlierDetector
  /** The leases of `max_conns` slots, when this is a worker of several and a server has `max_conns`. */
  readonly #leases: SlotLeases | undefined
  readonly #retryAfter: Readonly<Record<string, string>>
  readonly #usable = (s: Server) => this.#isUsable(s)
  #servers: readonly Server[]
  #inFlight = 0
  /** Whether backups serve now: no primary is healthy. */
  #backupTurn = false
  /** Whether the pick under way takes backups: their turn, or a retry that tried every usable primary. */
  #pickBackups = false
  /** Whether health is ignored now: too few servers are healthy. */
  #panic = false
  /** The pool of the next Plan, once a reload has replaced this one: it took over the queue. */
  #successor: Pool | undefined
  /** Passing checks shared so far, in the leader: each shared pass differs from the last. */
  #passes = 0
  /** The servers the exchange being picked for has tried; set only during a pick. */
  #tried: readonly Server[] | undefined

  constructor(name: string, servers: readonly Server[], balancer: Balancer, settings: PoolSettings, deps: PoolDeps) {
    this.name = name
    this.#servers = servers
    this.#balancer = balancer
    this.#settings = settings
    this.hostHeader = settings.hostHeader
    this.timeouts = settings.timeouts
    this.retries = settings.retries
    this.#events = deps.events
    this.#now = deps.now ?? perfNow
    this.#forget = deps.forget
    this.#outlier = new OutlierDetector(settings.outlier)
    this.#retryAfter = { 'retry-after': String(settings.retryAfterS) }
    this.#queue = new Queue<Ticket>(
      settings.queueLength,
      settings.queueTimeoutMs,
      (ticket) => this.#expired(ticket),
      this.#now,
    )
    for (const s of settings.joining) this.#startRamp(s)
    this.#shared = deps.shared ?? new SharedState()
    this.#healthKey = `health/${name}/`
    this.#checked = settings.active !== undefined
    // Once per machine, not once per worker: the leader checks, every process applies the verdicts.
    this.#checks = settings.active && this.#shared.leader ? new ActiveChecks(settings.active, this) : undefined
    this.#recount()
    this.#unwatch = this.#checked
      ? this.#shared.watch(this.#healthKey, (key, value) => this.#applyVerdict(key, value as SharedVerdict | undefined))
      : undefined
    for (const s of servers) this.#checks?.add(s)
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
   * none is usable or all are full. A returned server counts as busy until `release`.
   */
  pick(x: Exchange, tried: readonly Server[] | undefined): Server | undefined {
    if (this.#inFlight >= this.#settings.maxInFlight) return undefined
    if (this.#settings.slowStartMs > 0) this.#ramp()
    this.#tried = tried
    this.#pickBackups = this.#backupTurn
    let s = this.#balancer.pick(x, this.#usable)
    if (!s && tried !== undefined) {
      // Every usable primary was tried (one is down and not yet out): a healthy backup takes the
      // retry before a server that already failed this exchange is tried again.
      if (!this.#backupTurn) {
        this.#pickBackups = true
        s = this.#balancer.pick(x, this.#usable)
        this.#pickBackups = false
      }
      this.#tried = undefined
      s ??= this.#balancer.pick(x, this.#usable)
    }
    this.#tried = undefined
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
    if (!this.#couldServe(ticket.tried)) {
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

  /** Ends an attempt that `pick` began: frees its slot, feeds latency and passive health, starts a queued request. */
  release(s: Server, result: AttemptResult): void {
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
    const now = this.#now()
    const ejectFor = this.#outlier.record(state, result, now)
    if (ejectFor > 0) this.#eject(s, ejectFor, result, now)
    this.#dispatch()
    // The slot is free for the pools of later Plans too, which share this server's state.
    for (let next = this.#successor; next; next = next.#successor) next.#dispatch()
  }

  /**
   * One active check ended (ProbeListener), in the leader process: applies `rise`/`fall`, and shares
   * a change of health with every process, this one included, which applies it at once.
   */
  onProbe(server: Server, failure: string | undefined): void {
    const active = this.#settings.active!
    const health = checkVerdict(server.state, failure === undefined, active.rise, active.fall)
    if (health !== undefined) {
      const verdict: SharedVerdict = { health, reason: failure ?? 'check passed' }
      this.#shared.set(this.#healthKey + server.address, verdict)
    } else if (failure === undefined && server.state.health === 'healthy') {
      // A passing check ends a passive ejection, in whichever process made it (Envoy's default):
      // the pass is shared too, though health did not change.
      const verdict: SharedVerdict = { health: 'healthy', reason: 'check passed', pass: ++this.#passes }
      this.#shared.set(this.#healthKey + server.address, verdict)
    }
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
      this.#recount()
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
      this.#startRamp(s)
      this.#events.info('server draining ended', { pool: this.name, server: address })
      this.#recount()
      this.#dispatch()
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
    this.#checks?.remove(s)
    this.#forgetVerdict(s)
    this.#balancer.update?.(this.#servers)
    this.#forget?.(s)
    this.#events.info('server removed', { pool: this.name, server: address })
    this.#recount()
    this.#dispatch()
    return true
  }

  /**
   * Stops active checks and their verdicts; called when a new Plan replaces this pool. Requests in
   * flight go on. When the new Plan has a pool of the same name, `successor`, queued requests move
   * to its queue, in order, and slots freed here start them there.
   */
  stop(successor?: Pool): void {
    this.#checks?.stop()
    this.#unwatch?.()
    const kept = successor?.servers
    for (const s of this.#servers) if (!kept?.some((c) => c.address === s.address)) this.#forgetVerdict(s)
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

  #isUsable(s: Server): boolean {
    const state = s.state
    if (s.backup !== this.#pickBackups || state.draining) return false
    if (s.maxConns > 0 && state.inFlight >= (state.lease?.slots ?? s.maxConns)) return false
    if (this.#tried?.includes(s)) return false
    return this.#panic ? this.#known(s) : this.#healthy(s)
  }

  /** Whether active checks have spoken for `s`, or need not have. */
  #known(s: Server): boolean {
    return !this.#checked || s.state.health !== 'unknown' || this.#settings.unknownTakesTraffic
  }

  #healthy(s: Server): boolean {
    const state = s.state
    if (state.ejectedUntil !== 0) return false
    if (!this.#checked) return true
    return state.health === 'healthy' || (state.health === 'unknown' && this.#settings.unknownTakesTraffic)
  }

  /** Whether some server could take this exchange once it has a free slot. */
  #couldServe(tried: readonly Server[] | undefined): boolean {
    for (const s of this.#servers) {
      if (s.weight === 0 || s.backup !== this.#backupTurn || s.state.draining) continue
      if (this.#panic ? this.#known(s) : this.#healthy(s)) return true
    }
    return tried !== undefined && tried.length > 0 && this.#couldServe(undefined)
  }

  /** Decides between primaries and backups, and whether to panic, after any change of health. */
  #recount(): void {
    let primaries = 0
    let healthyPrimaries = 0
    let healthyBackups = 0
    let unknownPrimaries = 0
    for (const s of this.#servers) {
      if (s.state.draining || s.weight === 0) continue
      if (!this.#known(s)) {
        unknownPrimaries += s.backup ? 0 : 1
        continue
      }
      const healthy = this.#healthy(s)
      if (s.backup) healthyBackups += healthy ? 1 : 0
      else {
        primaries++
        healthyPrimaries += healthy ? 1 : 0
      }
    }
    this.#backupTurn = healthyPrimaries === 0 && healthyBackups > 0
    // A pool whose checks have not all answered yet is starting up, not in panic; a healthy backup
    // counts before panic, which would send requests to servers known to be down (#21).
    const panic =
      healthyBackups === 0 &&
      unknownPrimaries === 0 &&
      primaries > 0 &&
      healthyPrimaries / primaries < this.#settings.panicThreshold
    if (panic !== this.#panic) {
      this.#panic = panic
      const details = { pool: this.name, healthy: healthyPrimaries, servers: primaries }
      if (panic) this.#events.warn('pool in panic mode: too few healthy servers, sending to all', details)
      else this.#events.info('pool out of panic mode', details)
    }
  }

  #eject(s: Server, forMs: number, result: AttemptResult, now: number): void {
    const state = s.state
    let ejected = 0
    for (const c of this.#servers) if (c.state.ejectedUntil !== 0) ejected++
    const allowed = Math.max(1, Math.floor(this.#servers.length * this.#settings.outlier.maxEjectedShare))
    if (ejected >= allowed) return
    const failures = state.consecutiveFailures
    const reason = `${failures} consecutive failures, last ${result.code ?? `status ${result.status}`}`
    const until = now + forMs
    state.ejectedUntil = until
    state.ejections++
    state.changed('passive', reason)
    this.#events.warn('server ejected', { pool: this.name, server: s.address, reason, ejection_ms: forMs })
    this.#recount()
    // An ejection that a passing check ended early, or a later one, is not this timer's to end.
    const timer = setTimeout(() => state.ejectedUntil === until && this.#return(s), forMs)
    timer.unref()
  }

  #return(s: Server): void {
    const state = s.state
    state.ejectedUntil = 0
    state.consecutiveFailures = 0
    state.returnedAt = this.#now()
    state.changed('passive', 'ejection ended', this.#checked && state.health === 'unhealthy')
    this.#startRamp(s)
    this.#events.info('server back from ejection', { pool: this.name, server: s.address })
    this.#recount()
    this.#dispatch()
  }

  /**
   * A change of health from the leader's checks, this process's own included: applies it to the
   * server `key` names, if this pool has it. Only the leader logs it, so the log has it once; a
   * worker started later (a new leader too) takes the verdicts made so far while it builds its pools.
   */
  #applyVerdict(key: string, verdict: SharedVerdict | undefined): void {
    if (verdict === undefined) return
    const address = key.slice(this.#healthKey.length)
    const server = this.#servers.find((s) => s.address === address)
    if (!server) return
    // A passing check ends an ejection at once (#21), as the server answers again.
    if (verdict.health === 'healthy' && server.state.health === 'healthy') {
      if (server.state.ejectedUntil !== 0) this.#return(server)
      return
    }
    if (server.state.health === verdict.health) return
    const state = server.state
    state.health = verdict.health
    state.changed('active', verdict.reason, verdict.health === 'healthy' && state.ejectedUntil !== 0)
    if (verdict.health === 'healthy') this.#startRamp(server)
    // Verdicts replayed while this pool is built (a new leader's) were logged when they were made.
    if (this.#shared.leader && this.#unwatch) {
      const details = { pool: this.name, server: address }
      if (verdict.health === 'healthy') this.#events.info('server healthy', details)
      else this.#events.warn('server unhealthy', { ...details, reason: verdict.reason })
    }
    if (verdict.health === 'healthy' && state.ejectedUntil !== 0) this.#return(server)
    this.#recount()
    this.#dispatch()
  }

  /**
   * Clears the shared verdict on `s` once it leaves the pool, so that a server added again later
   * starts unknown, as a new one does. The leader owns the verdicts, so only it clears them.
   */
  #forgetVerdict(s: Server): void {
    if (this.#checks) this.#shared.set(this.#healthKey + s.address, undefined)
  }

  /** Starts queued requests while servers have free slots, oldest first. */
  #dispatch(): void {
    for (let ticket = this.#queue.peek(); ticket; ticket = this.#queue.peek()) {
      const s = this.pick(ticket.x, ticket.tried)
      if (!s && this.#couldServe(ticket.tried)) return
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

  #startRamp(s: Server): void {
    if (this.#settings.slowStartMs === 0) return
    s.state.rampFrom = this.#now()
    s.state.ramp = minRamp
  }

  #ramp(): void {
    const now = this.#now()
    const period = this.#settings.slowStartMs
    for (const s of this.#servers) {
      const state = s.state
      if (state.ramp < 1) state.ramp = Math.min(1, Math.max(minRamp, (now - state.rampFrom) / period))
    }
  }
}

/** Share a server gets at the start of slow start, so that it is tried at all. */
const minRamp = 0.1

const perfNow = () => performance.now()
