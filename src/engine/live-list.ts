/** One entry of a LiveList, which its owner removes when its value ends. */
export interface Entry<T> {
  value: T | undefined
  prev: Entry<T> | undefined
  next: Entry<T> | undefined
}

/**
 * What is open now (connections, sessions), to count it and to end it all at shutdown, for things
 * that come and go with traffic. A linked list rather than a Set: V8 rebuilds a Set's table as entries come and go, and a retired
 * table still points at its successor and at the entries it held. Once a retired table reached the
 * old generation, it kept every later table and every connection they held out of the young
 * generation's collections, so each closed connection was copied and promoted, and freed only by
 * a full collection. A removed entry here points at nothing.
 */
export class LiveList<T> {
  #head: Entry<T> | undefined = undefined
  #size = 0

  get size(): number {
    return this.#size
  }

  /** Adds `value`; `remove` takes the returned entry out again. */
  add(value: T): Entry<T> {
    const entry: Entry<T> = { value, prev: undefined, next: this.#head }
    if (this.#head) this.#head.prev = entry
    this.#head = entry
    this.#size++
    return entry
  }

  remove(entry: Entry<T>): void {
    if (entry.value === undefined) return
    if (entry.prev) entry.prev.next = entry.next
    else this.#head = entry.next
    if (entry.next) entry.next.prev = entry.prev
    entry.value = undefined
    entry.prev = undefined
    entry.next = undefined
    this.#size--
  }

  /** The values now, as an array: a callback may remove entries while they are being visited. */
  values(): T[] {
    const all: T[] = []
    for (let e = this.#head; e; e = e.next) all.push(e.value!)
    return all
  }
}
