/**
 * Portico's cross-site scripting detector for `@detectXSS`: a value is XSS when it opens a tag that
 * runs script or loads content, adds an event handler attribute, or names a script URL scheme.
 * Text with `<` and `>` in prose ("a < b") is not.
 */
const patterns: readonly RegExp[] = [
  // The tags libinjection refuses: they run script or load content by themselves.
  /<\s*\/?\s*(?:applet|base|comment|embed|frame|frameset|handler|iframe|import|isindex|link|listener|meta|noscript|object|script|style|vmlframe|xml|xss|svg|xsl)\w*\b/i,
  /<[a-z!?][^>]*\bon[a-z]{3,}\s*=/i,
  /["'`\s/;]on[a-z]{3,}\s*=\s*["'`]?[^\s"'`>]*[(`=]/i,
  /\b(?:javascript|vbscript|livescript)\s*:/i,
  /\bdata\s*:\s*(?:text\/html|image\/svg\+xml|application\/x?html)/i,
  /\bexpression\s*\(/i,
  /<!--[\s\S]*?-->|<!\[CDATA\[/i,
  /<[a-z][^>]*\b(?:srcdoc|formaction|xlink:href|style|xmlns)\s*=/i,
]

/** Whether `value` reads as cross-site scripting; returns the matched fragment, or undefined. */
export function detectXss(value: string): string | undefined {
  if (!/[<:=(]/.test(value)) return undefined
  for (const p of patterns) {
    const m = p.exec(value)
    if (m) return m[0]
  }
  return undefined
}
