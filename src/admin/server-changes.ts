import type { Config } from '../config/schema.ts'
import { splitAddress } from '../values/address.ts'
import { AdminError } from './admin-error.ts'
import type { AdminGroup } from './group.ts'
import type { PoolView, ServerView } from './live-state.ts'
import { entryOf, type Overlay } from './overlay.ts'

/** What the server changes need of the control: its overlay, the running config, how to apply and log. */
export interface ChangeTarget {
  readonly overlay: Overlay
  /** The config running now: the file's with the API's changes. */
  readonly effective: () => Config
  /** The instance's group, told of each change; undefined without one. */
  readonly group: AdminGroup | undefined
  /** Applies the effective config in every serving process. */
  readonly apply: () => Promise<void>
  /** Sends the overlay's drains to every serving process. */
  readonly shareDrains: () => void
  readonly log: (who: string, change: Record<string, unknown>) => void
  /** The pools' live state, summed over the workers. */
  readonly pools: () => Promise<readonly PoolView[]>
  /** One server's live state; 404 when the pool has no such server. */
  readonly server: (pool: string, address: string) => Promise<ServerView>
}

/**
 * The API's changes of a pool's servers (drain, enable, weight, add, remove), made in every
 * serving process, logged and published to the group. The caller runs them one at a time.
 */
export class ServerChanges {
  readonly #t: ChangeTarget

  constructor(target: ChangeTarget) {
    this.#t = target
  }

  async drain(who: string, pool: string, address: string): Promise<ServerView> {
    this.#known(pool, address)
    this.#t.overlay.drain(pool, address)
    this.#t.shareDrains()
    this.#t.log(who, { op: 'drain', pool, server: address })
    this.#t.group?.publish({ kind: 'drain', pool, server: address, drained: true })
    return this.#t.server(pool, address)
  }

  async enable(who: string, pool: string, address: string): Promise<ServerView> {
    this.#known(pool, address)
    this.#t.overlay.enable(pool, address)
    this.#t.shareDrains()
    this.#t.log(who, { op: 'enable', pool, server: address })
    this.#t.group?.publish({ kind: 'drain', pool, server: address, drained: false })
    return this.#t.server(pool, address)
  }

  async setWeight(who: string, pool: string, address: string, weight: unknown): Promise<ServerView> {
    checkWeight(weight)
    const before = this.#known(pool, address).weight
    this.#t.overlay.setWeight(pool, address, weight)
    await this.#t.apply()
    this.#t.log(who, { op: 'weight', pool, server: address, from: before, to: weight })
    this.#t.group?.publish({ kind: 'weight', pool, server: address, weight })
    return this.#t.server(pool, address)
  }

  async addServer(who: string, pool: string, address: unknown, weight: unknown): Promise<ServerView> {
    if (typeof address !== 'string' || splitAddress(address) === undefined)
      throw new AdminError(400, 'address must be "host:port"')
    checkWeight(weight)
    const servers = this.#t.effective().pools[pool]?.servers
    if (!servers) throw new AdminError(404, `no pool "${pool}"`)
    if (servers.some((s) => entryOf(s).address === address))
      throw new AdminError(409, `pool "${pool}" already has server "${address}"`)
    this.#t.overlay.add(pool, address, weight)
    await this.#t.apply()
    this.#t.log(who, { op: 'add', pool, server: address, weight })
    this.#t.group?.publish({ kind: 'add', pool, server: address, weight })
    return this.#t.server(pool, address)
  }

  async removeServer(who: string, pool: string, address: string, deadlineMs: number): Promise<{ drained: boolean }> {
    this.#known(pool, address)
    if (this.#t.effective().pools[pool]!.servers.length === 1)
      throw new AdminError(409, `server "${address}" is the last of pool "${pool}"`)
    // The drain is in place once the call returns: the group hears of it while it empties.
    const emptied = this.drainUntilEmpty(pool, [address], deadlineMs)
    this.#t.group?.publish({ kind: 'drain', pool, server: address, drained: true })
    const drained = await emptied
    this.#t.overlay.remove(pool, address)
    await this.#t.apply()
    this.#t.shareDrains()
    this.#t.log(who, { op: 'remove', pool, server: address, drained })
    this.#t.group?.publish({ kind: 'remove', pool, server: address })
    return { drained }
  }

  /**
   * Drains `addresses` of `pool` in every worker and waits until none has a request in flight to
   * them or `deadlineMs` passes; resolves with whether they emptied in time.
   */
  async drainUntilEmpty(pool: string, addresses: readonly string[], deadlineMs: number): Promise<boolean> {
    for (const address of addresses) this.#t.overlay.drain(pool, address)
    this.#t.shareDrains()
    const end = performance.now() + deadlineMs
    for (;;) {
      const p = (await this.#t.pools()).find((c) => c.name === pool)
      if (!p?.servers.some((s) => addresses.includes(s.address) && s.in_flight > 0)) return true
      if (performance.now() >= end) return false
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** The server as the running config has it; 404 when there is none. */
  #known(pool: string, address: string) {
    const servers = this.#t.effective().pools[pool]?.servers
    if (!servers) throw new AdminError(404, `no pool "${pool}"`)
    const s = servers.map(entryOf).find((c) => c.address === address)
    if (!s) throw new AdminError(404, `pool "${pool}" has no server "${address}"`)
    return s
  }
}

/** Throws the API's 400 unless `weight` is an integer from 0 to 1000. */
function checkWeight(weight: unknown): asserts weight is number {
  if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 1000)
    throw new AdminError(400, 'weight must be an integer from 0 to 1000')
}
