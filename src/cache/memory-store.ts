import { LRUCache } from 'lru-cache'
import { variantKey } from '../http/variant-key.ts'
import { collectSoon } from '../process/full-collection.ts'
import { ownBuffer } from './own-buffer.ts'
import type { Stored } from './policy.ts'
import { type PreparedHead, preparedBytes } from './prepared-head.ts'

/** A stored response: its head and freshness, and the whole body. */
export interface Entry extends Stored {
  readonly body: Buffer
  /** Purge tags from the route's tag header. */
  readonly tags: readonly string[]
  /** The head as hits send it, made when the entry is stored in memory; absent elsewhere. */
  readonly prepared?: PreparedHead | undefined
}

/** What a primary key holds when its responses vary: the request headers that select a variant. */
interface VarySpec {
  readonly vary: readonly string[]
}

type Slot = Entry | VarySpec

// Bytes an entry holds beyond its body's and its strings' own bytes: its objects, its body's
// buffer objects and their native records, the store's slot for it (measured with the memory
// test, docs/PERFORMANCE.md "Cache hits").
const entryObjects = 640
// A full collection is asked for each time entries worth this share of the bound have been let go of.
const collectAfterShare = 8
// Bytes each string holds beyond its characters: its header, rounded up, and its slot in the list.
const perString = 24

/**
 * The memory tier of one worker: responses by key, least recently used dropped first, bounded in
 * bytes: every byte an entry holds (body, key, head strings, and its objects), so that the bound
 * is what the tier costs in memory. A body that is a slice of a larger buffer is copied first. A response with `Vary` is stored under its
 * key plus the normalised values of the headers it names, and the key itself records those names,
 * so one URL holds several variants and a lookup finds the client's own (RFC 9111 §4.1).
 */
export class MemoryStore {
  readonly #lru: LRUCache<string, Slot>
  /** Bytes of entries taken in and let go of (evicted, replaced, purged) since the last collection was asked for. */
  #churn = 0
  readonly #collectAfter: number

  readonly #prepare: (headers: readonly string[]) => PreparedHead | undefined

  /** `prepare` makes what hits need of a stored head, once, as each entry comes in. */
  constructor(maxBytes: number, prepare: (headers: readonly string[]) => PreparedHead | undefined = () => undefined) {
    this.#prepare = prepare
    const max = Math.max(1, maxBytes)
    this.#collectAfter = max / collectAfterShare
    this.#lru = new LRUCache<string, Slot>({
      maxSize: max,
      sizeCalculation: (slot, key) => slotBytes(slot, key),
      dispose: (slot, key) => this.#churned(slotBytes(slot, key)),
    })
  }

  /**
   * An entry came in or left. A dropped entry's memory is freed only by V8's next full
   * collection, which V8 starts only once the heap and the buffers outside it have grown by a
   * share of what the process holds, the stored bodies included; and while entries come in, the
   * old generation grows beyond them with the objects of their exchanges (measured in
   * docs/PERFORMANCE.md, "Cache hits"). Left alone, a tier that keeps storing holds its bound plus
   * up to that much again; so a collection is asked for each time entries worth an eighth of the
   * bound have come in or gone.
   */
  #churned(bytes: number): void {
    this.#churn += bytes
    if (this.#churn < this.#collectAfter) return
    this.#churn = 0
    collectSoon()
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
  set(key: string, found: Entry, h: Readonly<Record<string, string | string[] | undefined>>): void {
    const body = ownsBody(found) ? found.body : ownBuffer([found.body], found.body.length)
    const entry: Entry = { ...found, body, prepared: this.#prepare(found.headers) }
    if (entry.vary.length === 0) {
      this.#lru.set(key, entry)
      this.#churned(slotBytes(entry, key))
      return
    }
    this.#lru.set(key, { vary: entry.vary })
    const variant = variantKey(key, entry.vary, h)
    this.#lru.set(variant, entry)
    this.#churned(slotBytes(entry, variant))
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

/** Whether `e`'s body is a buffer of its own, not a slice that keeps a larger one alive (own-buffer.ts). */
function ownsBody(e: Entry): boolean {
  return e.body.byteOffset === 0 && e.body.buffer.byteLength === e.body.byteLength
}

/** Every byte a slot holds while it is stored: its key, its strings, its objects and its body. */
function slotBytes(slot: Slot, key: string): number {
  let n = entryObjects + key.length + perString
  const strings = 'body' in slot ? slot.headers : slot.vary
  for (const h of strings) n += h.length + perString
  if ('body' in slot) n += slot.body.byteLength + slot.tags.length * perString + preparedBytes(slot.prepared)
  return n
}
