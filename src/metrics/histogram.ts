import { secondsBuckets } from './families.ts'
import type { Sample } from './sample.ts'

// Bounds in milliseconds, as the exchange measures: no division per observation.
const boundsMs = secondsBuckets.map((s) => s * 1000)

/** Counts of observations per bucket, and their sum: plain numbers, turned into samples when reported. */
export class Histogram {
  /** Observations at or under each bound (not cumulative), then over the last. */
  readonly #counts = new Float64Array(boundsMs.length + 1)
  #sumMs = 0

  /** Counts one observation of `ms` milliseconds. */
  observe(ms: number): void {
    let i = 0
    while (i < boundsMs.length && ms > boundsMs[i]!) i++
    this.#counts[i]!++
    this.#sumMs += ms
  }

  /** Appends this histogram's `_bucket` (cumulative, `le` in seconds), `_sum` and `_count` samples. */
  samples(name: string, labels: Readonly<Record<string, string>>, out: Sample[]): void {
    let total = 0
    for (let i = 0; i < boundsMs.length; i++) {
      total += this.#counts[i]!
      out.push([`${name}_bucket`, { ...labels, le: String(secondsBuckets[i]) }, total])
    }
    total += this.#counts[boundsMs.length]!
    out.push([`${name}_bucket`, { ...labels, le: '+Inf' }, total])
    out.push([`${name}_sum`, labels, this.#sumMs / 1000])
    out.push([`${name}_count`, labels, total])
  }
}
