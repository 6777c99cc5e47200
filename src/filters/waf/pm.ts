/**
 * A phrase matcher for `@pm` and `@pmFromFile`: one Aho–Corasick automaton over the lowercased
 * phrases, built once, so a value is scanned once whatever the number of phrases. Matching is
 * case-insensitive, as ModSecurity's is.
 */
export class PhraseMatcher {
  readonly #next: Map<number, number>[] = [new Map()]
  readonly #fail: number[] = [0]
  readonly #out: (string | undefined)[] = [undefined]

  constructor(phrases: readonly string[]) {
    for (const phrase of phrases) {
      const p = phrase.toLowerCase()
      if (p === '') continue
      let node = 0
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i)
        let n = this.#next[node]!.get(c)
        if (n === undefined) {
          n = this.#next.length
          this.#next.push(new Map())
          this.#fail.push(0)
          this.#out.push(undefined)
          this.#next[node]!.set(c, n)
        }
        node = n
      }
      this.#out[node] = p
    }
    const queue: number[] = []
    for (const n of this.#next[0]!.values()) queue.push(n)
    while (queue.length > 0) {
      const node = queue.shift()!
      for (const [c, child] of this.#next[node]!) {
        let f = this.#fail[node]!
        while (f !== 0 && !this.#next[f]!.has(c)) f = this.#fail[f]!
        const target = this.#next[f]!.get(c)
        this.#fail[child] = target !== undefined && target !== child ? target : 0
        this.#out[child] ??= this.#out[this.#fail[child]!]
        queue.push(child)
      }
    }
  }

  /** The first phrase found in `value`, or undefined. */
  find(value: string): string | undefined {
    let node = 0
    for (let i = 0; i < value.length; i++) {
      let c = value.charCodeAt(i)
      if (c >= 65 && c <= 90) c += 32
      while (node !== 0 && !this.#next[node]!.has(c)) node = this.#fail[node]!
      node = this.#next[node]!.get(c) ?? 0
      const hit = this.#out[node]
      if (hit !== undefined) return hit
    }
    return undefined
  }
}
