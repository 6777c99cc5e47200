/** The named entities ModSecurity's htmlEntityDecode knows, with their byte values. */
const named: Record<string, string> = {
  quot: '"',
  amp: '&',
  lt: '<',
  gt: '>',
  nbsp: '\xa0',
}

/**
 * Decodes HTML entities as ModSecurity's htmlEntityDecode does: `&#DD;`, `&#xHH;` (the low byte of
 * the code point) and a few named ones; the closing semicolon is optional.
 */
export function htmlEntityDecode(v: string): string {
  if (!v.includes('&')) return v
  return v.replace(/&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|(quot|amp|lt|gt|nbsp));?/gi, (m, h, d, name) => {
    if (h !== undefined) return String.fromCharCode(Number.parseInt(h, 16) & 0xff)
    if (d !== undefined) return String.fromCharCode(Number.parseInt(d, 10) & 0xff)
    return named[(name as string).toLowerCase()] ?? m
  })
}
