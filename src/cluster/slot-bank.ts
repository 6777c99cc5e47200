import type { Config } from '../config/schema.ts'
import type { DemandLevel, LeaseMessage } from '../instance/slot-leases.ts'
import { workerShare } from '../instance/worker-share.ts'

/** A worker as the bank sees it: where messages go, and its place among the workers (for its share). */
export interface BankWorker {
  readonly index: number
  send(message: LeaseMessage): void
}

/** One server with `max_conns`: the slots the instance has for it, and who holds them. */
interface Account {
  readonly pool: string
  total: number
  free: number
  readonly held: Map<BankWorker, number>
}

/**
 * The primary's side of `max_conns` for the whole instance: every limited server's slots, lent to
 * the workers (slot-leases.ts is theirs). Each worker starts with its share (`workerShare`); a
 * worker with requests waiting gets free slots, those held by the fewest first, and while any wait,
 * the other workers hand slots back as they free (DemandLevel). Slots are only ever moved, never
 * made: the workers together hold at most `max_conns` of a server, and those of a worker that dies
 * come back to the bank.
 */
export class SlotBank {
  readonly #count: number
  readonly #accounts = new Map<string, Account>()
  readonly #workers = new Set<BankWorker>()
  /** Requests waiting in each worker's queue, per pool, as the workers last said. */
  readonly #waiting = new Map<string, Map<BankWorker, number>>()
  readonly #demand = new Map<string, DemandLevel>()

  /** `count` is how many workers split the slots. */
  constructor(config: Config, count: number) {
    this.#count = count
    this.configure(config)
  }

  /**
   * Takes the `max_conns` of `config`: new servers start with every slot free; a changed limit
   * changes what is free (below zero until workers hand slots back); removed servers are forgotten.
   * Every worker learns its new shares.
   */
  configure(config: Config): void {
    const seen = new Set<string>()
    const added = new Set<string>()
    for (const [pool, poolConfig] of Object.entries(config.pools)) {
      for (const entry of poolConfig.servers) {
        if (typeof entry === 'string' || entry.max_conns === 0) continue
        const key = `${pool}/${entry.address}`
        seen.add(key)
        const account = this.#accounts.get(key)
        if (!account) {
          this.#accounts.set(key, { pool, total: entry.max_conns, free: entry.max_conns, held: new Map() })
          added.add(key)
        } else {
          account.free += entry.max_conns - account.total
          account.total = entry.max_conns
        }
      }
    }
    for (const key of this.#accounts.keys()) if (!seen.has(key)) this.#accounts.delete(key)
    // Workers get their share of a new server, and learn their new share of the others.
    for (const worker of this.#workers) {
      for (const [key, account] of this.#accounts) {
        const share = workerShare(account.total, worker.index, this.#count)
        this.#grant(key, worker, added.has(key) ? Math.max(0, Math.min(share, account.free)) : 0)
      }
    }
    for (const pool of new Set([...this.#accounts.values()].map((a) => a.pool))) this.#settle(pool)
  }

  /** A worker started: it gets its share of every limited server, as far as slots are free. */
  join(worker: BankWorker): void {
    this.#workers.add(worker)
    for (const [key, account] of this.#accounts) {
      const share = workerShare(account.total, worker.index, this.#count)
      this.#grant(key, worker, Math.max(0, Math.min(share, account.free)))
    }
    for (const [pool, level] of this.#demand) if (level > 0) worker.send({ type: 'slots-demand', pool, level })
  }

  /** A worker exited: its slots are free again, for the workers waiting. */
  leave(worker: BankWorker): void {
    this.#workers.delete(worker)
    const pools = new Set<string>()
    for (const account of this.#accounts.values()) {
      account.free += account.held.get(worker) ?? 0
      account.held.delete(worker)
      pools.add(account.pool)
    }
    for (const waiting of this.#waiting.values()) waiting.delete(worker)
    for (const pool of pools) this.#settle(pool)
  }

  /** A message from `worker`'s leases. */
  receive(worker: BankWorker, message: LeaseMessage): void {
    if (message.type === 'slots-need') {
      let waiting = this.#waiting.get(message.pool)
      if (!waiting) this.#waiting.set(message.pool, (waiting = new Map()))
      waiting.set(worker, message.waiting)
      this.#settle(message.pool)
    } else if (message.type === 'slots-return') {
      const account = this.#accounts.get(message.key)
      // A server removed meanwhile: its slots are gone with it.
      if (!account) return
      account.free += message.count
      account.held.set(worker, (account.held.get(worker) ?? 0) - message.count)
      this.#settle(account.pool)
    }
  }

  /** Lends free slots of `pool` to its waiting workers, then tells every worker how much the pool is wanted. */
  #settle(pool: string): void {
    const waiting = this.#waiting.get(pool)
    const accounts = [...this.#accounts.entries()].filter(([, a]) => a.pool === pool)
    for (;;) {
      let neediest: BankWorker | undefined
      let fewest = Number.POSITIVE_INFINITY
      for (const [worker, count] of waiting ?? []) {
        if (count <= 0 || !this.#workers.has(worker)) continue
        const held = this.#heldIn(accounts, worker)
        if (held < fewest) [neediest, fewest] = [worker, held]
      }
      if (!neediest) break
      let richest: string | undefined
      let most = 0
      for (const [key, account] of accounts) if (account.free > most) [richest, most] = [key, account.free]
      if (!richest) break
      this.#grant(richest, neediest, 1)
      waiting!.set(neediest, waiting!.get(neediest)! - 1)
    }
    let level: DemandLevel = accounts.some(([, a]) => a.free < 0) ? 1 : 0
    for (const [worker, count] of waiting ?? []) {
      if (count <= 0 || !this.#workers.has(worker)) continue
      if (this.#heldIn(accounts, worker) > 0) level = 1
      else {
        level = 2
        break
      }
    }
    if ((this.#demand.get(pool) ?? 0) === level) return
    this.#demand.set(pool, level)
    for (const worker of this.#workers) worker.send({ type: 'slots-demand', pool, level })
  }

  #heldIn(accounts: readonly [string, Account][], worker: BankWorker): number {
    let held = 0
    for (const [, account] of accounts) held += account.held.get(worker) ?? 0
    return held
  }

  #grant(key: string, worker: BankWorker, count: number): void {
    const account = this.#accounts.get(key)!
    account.free -= count
    account.held.set(worker, (account.held.get(worker) ?? 0) + count)
    worker.send({ type: 'slots-grant', key, count, share: workerShare(account.total, worker.index, this.#count) })
  }
}
