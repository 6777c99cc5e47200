/** A byte range of a file, both ends inclusive. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/**
 * Reads a `Range` header for a file of `size` bytes (RFC 9110 §14.2): one range (`bytes=0-99`,
 * `bytes=500-`, `bytes=-200`) gives a ByteRange, clamped to the file; a syntactically valid range
 * that starts past the end gives "unsatisfiable"; anything else, several ranges included, gives
 * undefined, and the whole file is sent (the RFC lets a server ignore Range).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header)
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (m[2] !== '' && Number(m[2]) < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}
