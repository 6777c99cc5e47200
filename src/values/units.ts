import { z } from 'zod'

const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const
const sizeUnits = { b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 } as const

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const sizePattern = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i

/** Parses `"250ms"`, `"5s"`, `"2m"`, `"1h"` into milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = durationPattern.exec(text)
  return m ? Number(m[1]) * durationUnits[m[2] as keyof typeof durationUnits] : undefined
}

/** Parses `"512"`, `"16KiB"`, `"10MB"`, `"1GiB"` into bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = sizePattern.exec(text)
  if (!m) return undefined
  const unit = (m[2] ?? 'b').toLowerCase() as keyof typeof sizeUnits
  return Math.floor(Number(m[1]) * sizeUnits[unit])
}

/** A duration field: a string such as `"5s"` or a number of milliseconds; the parsed value is milliseconds. */
export function duration(doc: string) {
  return z
    .union([z.number().nonnegative(), z.string()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v
      const ms = parseDuration(v)
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration such as "500ms", "5s", "2m" or "1h", found "${v}"`,
        })
        return z.NEVER
      }
      return ms
    })
    .describe(doc)
}

/** A size field: a number of bytes or a string such as `"16KiB"`, `"10MB"`; the parsed value is bytes. */
export function size(doc: string) {
  return z
    .union([z.number().int().nonnegative(), z.string()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v
      const bytes = parseSize(v)
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a size such as 1024, "16KiB" or "10MB", found "${v}"` })
        return z.NEVER
      }
      return bytes
    })
    .describe(doc)
}
