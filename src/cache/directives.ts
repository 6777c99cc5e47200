/**
 * Cache-Control directives (RFC 9111 §5.2) by lower-case name: `true` for a bare directive, the
 * unquoted argument otherwise. A directive given twice keeps its first value.
 */
export function directives(value: string | string[] | undefined): Map<string, string | true> {
  const out = new Map<string, string | true>()
  if (value === undefined) return out
  const text = Array.isArray(value) ? value.join(',') : value
  // Splits on commas outside quoted strings: no-cache="a, b" is one directive.
  for (const m of text.matchAll(/\s*([^,=\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*(?:,|$)/g)) {
    const name = m[1]!.toLowerCase()
    if (out.has(name)) continue
    const arg = m[2]
    out.set(name, arg === undefined ? true : arg.startsWith('"') ? arg.slice(1, -1).replace(/\\(.)/g, '$1') : arg)
  }
  return out
}

/** A delta-seconds argument (RFC 9111 §1.2.2), or undefined when absent or not a number. */
export function seconds(d: Map<string, string | true>, name: string): number | undefined {
  const v = d.get(name)
  if (v === undefined || v === true || !/^\d+$/.test(v)) return undefined
  return Number(v)
}
