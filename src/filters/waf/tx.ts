const gone = Symbol('deleted')

/** Per route's base TX and regex: the base keys it matches. */
const matchingBaseKeys = new WeakMap<ReadonlyMap<string, string>, Map<RegExp, string[]>>()

/**
 * One request's TX collection over the route's starting values: writes go to a layer of the
 * request's own, so a request does not copy the route's few dozen defaults. Reads, writes,
 * deletions and iteration order behave as one Map's would (an updated key keeps its place).
 */
export class Tx {
  readonly #base: ReadonlyMap<string, string>
  readonly #own = new Map<string, string | typeof gone>()

  constructor(base: ReadonlyMap<string, string>) {
    this.#base = base
  }

  get(key: string): string | undefined {
    const v = this.#own.get(key)
    if (v === undefined) return this.#base.get(key)
    return v === gone ? undefined : v
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  set(key: string, value: string): this {
    this.#own.set(key, value)
    return this
  }

  delete(key: string): boolean {
    if (!this.has(key)) return false
    this.#own.set(key, gone)
    return true
  }

  forEach(each: (value: string, key: string) => void): void {
    this.#base.forEach((v, k) => {
      const own = this.#own.get(k)
      if (own === undefined) each(v, k)
      else if (own !== gone) each(own, k)
    })
    this.#own.forEach((v, k) => {
      if (v !== gone && !this.#base.has(k)) each(v, k)
    })
  }

  /**
   * Calls `each` for the keys the regex matches, in Map order. The base's matching keys are found
   * once per base and regex (the base is a route's, shared by its requests), so a request tests
   * only the keys it wrote itself.
   */
  forEachMatching(key: RegExp, each: (value: string, key: string) => void): void {
    let byRegex = matchingBaseKeys.get(this.#base)
    if (!byRegex) {
      byRegex = new Map()
      matchingBaseKeys.set(this.#base, byRegex)
    }
    let keys = byRegex.get(key)
    if (!keys) {
      keys = [...this.#base.keys()].filter((k) => key.test(k))
      byRegex.set(key, keys)
    }
    for (let i = 0; i < keys.length; i++) {
      const v = this.get(keys[i]!)
      if (v !== undefined) each(v, keys[i]!)
    }
    this.#own.forEach((v, k) => {
      if (v !== gone && !this.#base.has(k) && key.test(k)) each(v, k)
    })
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    const out: [string, string][] = []
    this.forEach((v, k) => {
      out.push([k, v])
    })
    yield* out
  }

  /** The values as one Map, to start other requests from. */
  toMap(): Map<string, string> {
    return new Map(this)
  }
}
