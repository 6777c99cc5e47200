/**
 * A set of addresses and CIDR ranges, v4 and v6, that answers `has(ip)` in O(log n): the entries
 * become sorted, merged ranges searched by bisection, so a list of 100,000 costs a lookup about
 * as much as a list of ten (node's BlockList checks its rules one by one).
 */
export class AddressSet {
  // IPv4 ranges: starts and inclusive ends as 32-bit numbers, sorted and disjoint.
  readonly #v4Start: Float64Array
  readonly #v4End: Float64Array
  // IPv6 ranges: four 32-bit words per address, most significant first, sorted and disjoint.
  readonly #v6Start: Uint32Array
  readonly #v6End: Uint32Array
  readonly size: number

  /** `entries` are addresses or CIDRs as the `cidr` schema accepts them; others are ignored. */
  constructor(entries: readonly string[]) {
    const v4: [number, number][] = []
    // Each IPv6 range as eight numbers, start words then end words: plain arrays, cheap to make by the 100,000.
    const v6: number[][] = []
    const words = new Uint32Array(4)
    for (const entry of entries) {
      const slash = entry.indexOf('/')
      const ip = slash < 0 ? entry : entry.slice(0, slash)
      const four = parseV4(ip)
      if (four >= 0) {
        const bits = slash < 0 ? 32 : Number(entry.slice(slash + 1))
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
        const start = (four & mask) >>> 0
        v4.push([start, start + (2 ** (32 - bits) - 1)])
        continue
      }
      if (!parseV6Into(ip, words)) continue
      const bits = slash < 0 ? 128 : Number(entry.slice(slash + 1))
      // An IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range it names.
      if (bits >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
        const mask = bits === 96 ? 0 : (0xffffffff << (128 - bits)) >>> 0
        const start = (words[3]! & mask) >>> 0
        v4.push([start, start + (2 ** (128 - bits) - 1)])
        continue
      }
      const range = [0, 0, 0, 0, 0, 0, 0, 0]
      for (let i = 0; i < 4; i++) {
        const wordBits = Math.min(32, Math.max(0, bits - i * 32))
        const mask = wordBits === 0 ? 0 : (0xffffffff << (32 - wordBits)) >>> 0
        range[i] = (words[i]! & mask) >>> 0
        range[i + 4] = (words[i]! | ~mask) >>> 0
      }
      v6.push(range)
    }
    const merged4 = mergeV4(v4)
    this.#v4Start = Float64Array.from(merged4, (r) => r[0])
    this.#v4End = Float64Array.from(merged4, (r) => r[1])
    const merged6 = mergeV6(v6)
    this.#v6Start = new Uint32Array(merged6.length * 4)
    this.#v6End = new Uint32Array(merged6.length * 4)
    merged6.forEach((range, i) => {
      for (let k = 0; k < 4; k++) {
        this.#v6Start[i * 4 + k] = range[k]!
        this.#v6End[i * 4 + k] = range[k + 4]!
      }
    })
    this.size = entries.length
  }

  /** Whether `ip` is in the set; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) counts as its IPv4 address. */
  has(ip: string): boolean {
    if (this.size === 0) return false
    const four = parseV4(ip)
    if (four >= 0) return this.#hasV4(four)
    const words = parseV6(ip)
    if (!words) return false
    if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return this.#hasV4(words[3]!)
    return this.#hasV6(words)
  }

  #hasV4(ip: number): boolean {
    const starts = this.#v4Start
    // The last range starting at or below `ip`.
    let lo = 0
    let hi = starts.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid]! <= ip) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found >= 0 && ip <= this.#v4End[found]!
  }

  #hasV6(ip: Uint32Array): boolean {
    const starts = this.#v6Start
    let lo = 0
    let hi = starts.length / 4 - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (compare(starts, mid * 4, ip, 0) <= 0) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found >= 0 && compare(ip, 0, this.#v6End, found * 4) <= 0
  }
}

/** Compares the 128-bit values at `a[i..i+4]` and `b[j..j+4]`. */
function compare(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let k = 0; k < 4; k++) {
    const d = a[i + k]! - b[j + k]!
    if (d !== 0) return d
  }
  return 0
}

function mergeV4(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0])
  const out: [number, number][] = []
  for (const r of ranges) {
    const last = out[out.length - 1]
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1])
    else out.push([r[0], r[1]])
  }
  return out
}

/** Sorts and merges IPv6 ranges given as `[start words…, end words…]`; overlapping ones become one. */
function mergeV6(ranges: number[][]): number[][] {
  ranges.sort((a, b) => compareWords(a, 0, b, 0))
  const out: number[][] = []
  for (const r of ranges) {
    const last = out[out.length - 1]
    // Merged when overlapping; adjacent ranges stay apart, which costs one step of bisection.
    if (last && compareWords(r, 0, last, 4) <= 0) {
      if (compareWords(r, 4, last, 4) > 0) for (let k = 4; k < 8; k++) last[k] = r[k]!
    } else out.push(r)
  }
  return out
}

/** Compares the 128-bit values at `a[i..i+4]` and `b[j..j+4]` of two ranges being built. */
function compareWords(a: number[], i: number, b: number[], j: number): number {
  for (let k = 0; k < 4; k++) {
    const d = a[i + k]! - b[j + k]!
    if (d !== 0) return d
  }
  return 0
}

/** The dotted-quad IPv4 address `s` as a 32-bit number, or -1 when it is not one. Allocates nothing. */
export function parseV4(s: string, from = 0): number {
  let value = 0
  let part = 0
  let digits = 0
  let dots = 0
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1
      value = value * 256 + part
      part = 0
      digits = 0
      dots++
    } else if (c >= 48 && c <= 57) {
      // No leading zeros (`010` is octal to some parsers), at most 255.
      if (digits > 0 && part === 0) return -1
      part = part * 10 + (c - 48)
      if (part > 255) return -1
      digits++
    } else return -1
  }
  if (dots !== 3 || digits === 0) return -1
  return value * 256 + part
}

/** The IPv6 address `s` (a zone `%eth0` ignored) as four 32-bit words, or undefined when it is not one. */
export function parseV6(s: string): Uint32Array | undefined {
  const words = new Uint32Array(4)
  return parseV6Into(s, words) ? words : undefined
}

// Scratch for parseV6Into: the eight 16-bit groups.
const groups = new Uint16Array(8)

/** Writes the IPv6 address `s` into `words` (four 32-bit words); false when it is not one. Scans once, no regex. */
function parseV6Into(s: string, words: Uint32Array): boolean {
  let end = s.indexOf('%')
  if (end < 0) end = s.length
  let count = 0
  let gap = -1
  let group = 0
  let digits = 0
  let i = 0
  if (end >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0
    i = 2
    if (i === end) return fill(words, count, gap)
  }
  for (; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === 58) {
      if (digits === 0 || count === 8) return false
      groups[count++] = group
      group = 0
      digits = 0
      if (i + 1 < end && s.charCodeAt(i + 1) === 58) {
        if (gap >= 0) return false
        gap = count
        i++
        if (i + 1 === end) return fill(words, count, gap)
      }
      continue
    }
    if (c === 46) {
      // A dotted IPv4 tail (`::ffff:10.0.0.1`) is the last two groups.
      const four = parseV4(s.slice(i - digits, end))
      if (four < 0 || count > 6) return false
      groups[count++] = Math.floor(four / 65536)
      groups[count++] = four & 0xffff
      return fill(words, count, gap)
    }
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
    if (v < 0 || digits === 4) return false
    group = group * 16 + v
    digits++
  }
  if (digits === 0 || count === 8) return false
  groups[count++] = group
  return fill(words, count, gap)
}

/** Spreads `count` parsed groups around the `::` at `gap` (-1: none) into four words. */
function fill(words: Uint32Array, count: number, gap: number): boolean {
  if (gap < 0 ? count !== 8 : count > 7) return false
  const zeros = 8 - count
  let w = 0
  let hi = 0
  for (let g = 0; g < 8; g++) {
    const value = gap >= 0 && g >= gap && g < gap + zeros ? 0 : groups[g >= gap + zeros && gap >= 0 ? g - zeros : g]!
    if (g % 2 === 0) hi = value
    else words[w++] = hi * 65536 + value
  }
  return true
}
