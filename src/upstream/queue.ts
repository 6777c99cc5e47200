/**
 * A FIFO queue bounded in length and in time. An item that has waited `timeoutMs` is taken out
 * and handed to `onExpire`; one timer, set for the oldest item, serves the whole queue.
 */
export class Queue<T> {
  readonly maxLength: number
  readonly timeoutMs: number
  readonly #onExpire: (item: T) => void
  readonly #now: () => number
  #items: T[] = []
  #since: number[] = []
  #head = 0
  #timer: NodeJS.Timeout | undefined

  /** `now` reads the clock in milliseconds: `performance.now` unless a test injects its own. */
  constructor(maxLength: number, timeoutMs: number, onExpire: (item: T) => void, now: () => number = perfNow) {
    this.maxLength = maxLength
    this.timeoutMs = timeoutMs
    this.#onExpire = onExpire
    this.#now = now
  }

  /** Items waiting now. */
  get length(): number {
    return this.#items.length - this.#head
  }

  /** Adds `item` at the end; false, and nothing added, when the queue is full. */
  push(item: T): boolean {
    if (this.length >= this.maxLength) return false
    this.#items.push(item)
    this.#since.push(this.#now())
    if (this.#timer === undefined) this.#arm()
    return true
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.length > 0 ? this.#items[this.#head] : undefined
  }

  /** Takes out the oldest item and returns how long it waited, in milliseconds. */
  shift(): number {
    const waited = this.#now() - this.#since[this.#head]!
    this.#items[this.#head] = undefined as T
    this.#head++
    this.#compact()
    return waited
  }

  /** Takes `item` out wherever it is (its client left); false when it is not queued. */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head)
    if (i < 0) return false
    this.#items.splice(i, 1)
    this.#since.splice(i, 1)
    this.#compact()
    return true
  }

  /** Stops the timer; items stay where they are. */
  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #compact(): void {
    if (this.length === 0) {
      this.#items = []
      this.#since = []
      this.#head = 0
      this.stop()
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#since = this.#since.slice(this.#head)
      this.#head = 0
    }
  }

  #arm(): void {
    const wait = this.#since[this.#head]! + this.timeoutMs - this.#now()
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, wait))
    this.#timer.unref()
  }

  #expire(): void {
    this.#timer = undefined
    const now = this.#now()
    while (this.length > 0 && now - this.#since[this.#head]! >= this.timeoutMs) {
      const item = this.#items[this.#head]!
      this.shift()
      this.#onExpire(item)
    }
    if (this.length > 0 && this.#timer === undefined) this.#arm()
  }
}

const perfNow = () => performance.now()
