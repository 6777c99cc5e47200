import type { Server } from '../server.ts'

/** Points per server on the ring at average weight: enough for shares within a few percent. */
const pointsPerServer = 160

/**
 * A consistent-hash ring (ketama). Every server, usable or not, owns points in proportion to its
 * weight, so removing one of N servers moves only the keys it owned, about 1/N of them; a key
 * whose server is unusable goes to the next usable server clockwise.
 */
export class Ring {
  readonly #points: Uint32Array
  readonly #owners: Server[]

  constructor(servers: readonly Server[]) {
    let total = 0
    for (const s of servers) total += s.weight
    const entries: [number, Server][] = []
    for (const s of servers) {
      const count = total === 0 ? 0 : Math.round((pointsPerServer * servers.length * s.weight) / total)
      for (let i = 0; i < count; i++) entries.push([hash32(`${s.address}-${i}`), s])
    }
    entries.sort((a, b) => a[0] - b[0])
    this.#points = Uint32Array.from(entries, (e) => e[0])
    this.#owners = entries.map((e) => e[1])
  }

  /** The first usable server clockwise from `key`; undefined when none is usable. */
  find(key: number, usable: (s: Server) => boolean): Server | undefined {
    const points = this.#points
    const n = points.length
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (points[mid]! < key) lo = mid + 1
      else hi = mid
    }
    let last: Server | undefined
    for (let k = 0; k < n; k++) {
      const s = this.#owners[(lo + k) % n]!
      // Consecutive points often share an owner: test each server once per run.
      if (s === last) continue
      last = s
      if (usable(s)) return s
    }
    return undefined
  }
}

/** FNV-1a over the UTF-16 code units of `text`, with murmur3's finalizer for a good spread. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
