/** Request headers as node parses them. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

/**
 * The key of one variant of `key` (RFC 9111 §4.1): the values of the headers `vary` names, lower
 * case and without blanks around commas, appended to it. Both tiers use it, so a variant has one
 * key in memory and on disk.
 */
export function variantKey(key: string, vary: readonly string[], h: RequestHeaders): string {
  let out = key
  for (const name of vary) {
    const v = h[name]
    const text = v === undefined ? '' : Array.isArray(v) ? v.join(',') : v
    out += `\0${text
      .toLowerCase()
      .replace(/\s*,\s*/g, ',')
      .trim()}`
  }
  return out
}
