/**
 * The slots of a server's `max_conns` that this worker holds: it may have that many requests in
 * flight to the server. The primary's SlotBank lends them out (slot-bank.ts).
 */
export interface Lease {
  /** `pool/address`. */
  readonly key: string
  slots: number
  /** The slots this worker keeps while other workers want some: its share of `max_conns`. */
  share: number
}

/** What the leases need of a pool (upstream/pool.ts implements it). */
export interface LeasingPool {
  readonly name: string
  /** Requests waiting in this worker's queue of the pool. */
  readonly queued: number
  /** Each server with a lease, and its requests in flight from this worker. */
  leased(): Iterable<{ readonly lease: Lease; readonly inFlight: number }>
  /** More slots came: start queued requests. */
  granted(): void
}

/** Messages between a worker's leases and the primary's bank, per pool (`pool`) or server (`key`, `pool/address`). */
export type LeaseMessage =
  | { readonly type: 'slots-need'; readonly pool: string; readonly waiting: number }
  | { readonly type: 'slots-return'; readonly key: string; readonly count: number }
  | { readonly type: 'slots-grant'; readonly key: string; readonly count: number; readonly share: number }
  | { readonly type: 'slots-demand'; readonly pool: string; readonly level: DemandLevel }

/**
 * How much other workers want a pool's slots: 0 not at all; 1 some worker has requests waiting, so
 * slots above a worker's share go back as they free, and idle ones at once; 2 some worker waiting
 * holds none, so every slot that frees goes back, and the bank gives it to the worker holding fewest.
 */
export type DemandLevel = 0 | 1 | 2

/**
 * A worker's side of `max_conns` held for the whole instance: the slots of each limited server it
 * holds, given by the primary. With no other worker waiting it keeps them, and no message is sent
 * per request. A worker whose slots are all busy queues the request locally and tells the primary
 * how many wait (coalesced to one message per event loop turn); the primary lends it a slot that
 * another worker does not use, or makes the others hand slots back as their requests end (see
 * DemandLevel), so no worker waits while the instance has a free slot, and each gets at least its
 * share, or a turn when the slots are fewer than the workers.
 */
export class SlotLeases {
  readonly #send: (message: LeaseMessage) => void
  readonly #leases = new Map<string, Lease>()
  readonly #pools = new Map<string, LeasingPool>()
  readonly #demand = new Map<string, DemandLevel>()
  /** The waiting count last told to the primary, per pool. */
  readonly #told = new Map<string, number>()
  readonly #dirty = new Set<LeasingPool>()
  #flushing = false

  constructor(send: (message: LeaseMessage) => void) {
    this.#send = send
  }

  /** The lease of server `key` (`pool/address`), made (holding nothing) on first use. */
  lease(key: string): Lease {
    let lease = this.#leases.get(key)
    if (!lease) {
      lease = { key, slots: 0, share: 0 }
      this.#leases.set(key, lease)
    }
    return lease
  }

  /** `pool` is the current pool of its name: grants and demand for it go there. */
  watch(pool: LeasingPool): void {
    this.#pools.set(pool.name, pool)
    this.queueChanged(pool)
  }

  /** The pool's queue grew or shrank: the primary learns the new count at the end of this turn. */
  queueChanged(pool: LeasingPool): void {
    if (this.#pools.get(pool.name) !== pool) return
    this.#dirty.add(pool)
    if (this.#flushing) return
    this.#flushing = true
    setImmediate(() => this.#flush())
  }

  /**
   * A request to a leased server of `pool` ended, its slot free: under demand, hands the slot back
   * to the primary instead of keeping it (see DemandLevel). Called before queued requests start.
   */
  released(pool: LeasingPool, lease: Lease, inFlight: number): void {
    if (lease.slots <= inFlight) return
    const level = this.#demand.get(pool.name) ?? 0
    if (level === 0) return
    if (level === 1 && pool.queued > 0 && lease.slots <= lease.share) return
    this.#giveBack(lease, 1)
  }

  /** A message from the primary. */
  receive(message: LeaseMessage): void {
    if (message.type === 'slots-grant') {
      const lease = this.lease(message.key)
      lease.slots += message.count
      lease.share = message.share
      const pool = this.#pools.get(message.key.slice(0, message.key.indexOf('/')))
      if (!pool) return
      pool.granted()
      this.#returnIdle(pool)
      // The primary counted the grant against what was waiting: it learns the count again, even unchanged.
      this.#told.delete(pool.name)
      this.queueChanged(pool)
    } else if (message.type === 'slots-demand') {
      this.#demand.set(message.pool, message.level)
      const pool = this.#pools.get(message.pool)
      if (pool) this.#returnIdle(pool)
    }
  }

  /** Under demand, a pool with nothing waiting here hands back every slot it does not use. */
  #returnIdle(pool: LeasingPool): void {
    if ((this.#demand.get(pool.name) ?? 0) === 0 || pool.queued > 0) return
    for (const { lease, inFlight } of pool.leased()) {
      if (lease.slots > inFlight) this.#giveBack(lease, lease.slots - inFlight)
    }
  }

  #giveBack(lease: Lease, count: number): void {
    lease.slots -= count
    this.#send({ type: 'slots-return', key: lease.key, count })
  }

  #flush(): void {
    this.#flushing = false
    for (const pool of this.#dirty) {
      // A queue emptied by timeouts or clients leaving frees no slot, yet leaves idle ones to hand back.
      this.#returnIdle(pool)
      const waiting = pool.queued
      if (this.#told.get(pool.name) === waiting) continue
      this.#told.set(pool.name, waiting)
      this.#send({ type: 'slots-need', pool: pool.name, waiting })
    }
    this.#dirty.clear()
  }
}
