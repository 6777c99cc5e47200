import { LRUCache } from 'lru-cache'
import { variantKey } from '../http/variant-key.ts'
import type { Stored } from './policy.ts'

/** A stored response: its head and freshness, and the whole body. */
export interface Entry extends Stored {
  readonly body: Buffer
  /** Purge tags from the route's tag header. */
  readonly tags: readonly string[]
}

/** What a primary key holds when its responses vary: the request headers that select a variant. */
interface VarySpec {
  readonly vary: readonly string[]
}

type Slot = Entry | VarySpec

// Bytes counted for an entry beyond its body and headers: the objects that hold it.
const overhead = 256

/**
 * The memory tier of one worker: responses by key, least recently used dropped first, bounded in
 * bytes (bodies, heads and a fixed overhead per entry). A response with `Vary` is stored under its
 * key plus the normalised values of the headers it names, and the key itself records those names,
 * so one URL holds several variants and a lookup finds the client's own (RFC 9111 §4.1).
 */
export class MemoryStore {
  readonly #lru: LRUCache<string, Slot>

  constructor(maxBytes: number) {
    this.#lru = new LRUCache<string, Slot>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (slot) => ('body' in slot ? slot.body.length + headBytes(slot.headers) + overhead : overhead),
    })
  }

  /**
   * The entry for `key` that matches the request headers `h`; `varies` tells a caller that the key
   * is known but no variant matches (Cache-Status `fwd=vary-miss`).
   */
  get(key: string, h: Readonly<Record<string, string | string[] | undefined>>): Entry | 'vary-miss' | undefined {
    const slot = this.#lru.get(key)
    if (slot === undefined) return undefined
    if ('body' in slot) return slot
    return (this.#lru.get(variantKey(key, slot.vary, h)) as Entry | undefined) ?? 'vary-miss'
  }

  /** Stores `entry` for the request headers `h` it answered. */
  set(key: string, entry: Entry, h: Readonly<Record<string, string | string[] | undefined>>): void {
    if (entry.vary.length === 0) {
      this.#lru.set(key, entry)
      return
    }
    this.#lru.set(key, { vary: entry.vary })
    this.#lru.set(variantKey(key, entry.vary, h), entry)
  }

  /**
   * Removes every response that `test` accepts, given the URL part of its key and its tags (a
   * variant list has none); returns how many responses went.
   */
  delete(test: (url: string, tags: readonly string[]) => boolean): number {
    let n = 0
    for (const [key, slot] of [...this.#lru.entries()]) {
      const url = key.split('\0')[0]!.split('\n')[0]!
      if (!test(url, 'body' in slot ? slot.tags : [])) continue
      this.#lru.delete(key)
      if ('body' in slot) n++
    }
    return n
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#lru.calculatedSize
  }
}

function headBytes(headers: readonly string[]): number {
  let n = 0
  for (const h of headers) n += h.length + 2
  return n
}
