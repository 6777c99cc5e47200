/**
 * The path segments of a request target under a static root, decoded once; undefined when the
 * target must not be served: a `..` segment (plain or percent-encoded), a backslash or NUL byte
 * (plain or encoded), a name starting with "." unless `dotfiles`, or encoding that does not decode.
 * Decoding once means `%252e` stays the literal name `%2e`, never a dot.
 */
export function safeSegments(target: string, dotfiles: boolean): string[] | undefined {
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    return undefined
  }
  if (decoded.includes('\\') || decoded.includes('\0')) return undefined
  const segments: string[] = []
  for (const s of decoded.split('/')) {
    if (s === '' || s === '.') continue
    if (s === '..' || (!dotfiles && s.startsWith('.'))) return undefined
    segments.push(s)
  }
  return segments
}
