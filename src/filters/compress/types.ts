/**
 * Builds a test of whether a `Content-Type` value is among `patterns`: exact types
 * (`application/json`), whole types (`text/*`) or structured suffixes (`application/*+json`).
 * Parameters such as `charset` are ignored, and so is case.
 */
export function compressTypes(patterns: readonly string[]): (contentType: string) => boolean {
  const exact = new Set<string>()
  const wholeTypes: string[] = []
  const suffixes: string[] = []
  for (const p of patterns) {
    const lower = p.toLowerCase()
    if (lower.endsWith('/*')) wholeTypes.push(lower.slice(0, -1))
    else if (lower.includes('/*+')) suffixes.push(lower.replace('/*+', '/'))
    else exact.add(lower)
  }
  return (contentType) => {
    const semi = contentType.indexOf(';')
    const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
    if (exact.has(type)) return true
    for (const prefix of wholeTypes) if (type.startsWith(prefix)) return true
    const plus = type.lastIndexOf('+')
    if (plus === -1) return false
    // `application/*+json` is kept as `application/json`: the type and the suffix.
    const slash = type.indexOf('/')
    for (const s of suffixes) {
      const sSlash = s.indexOf('/')
      if (s.slice(0, sSlash) === type.slice(0, slash) && s.slice(sSlash + 1) === type.slice(plus + 1)) return true
    }
    return false
  }
}
