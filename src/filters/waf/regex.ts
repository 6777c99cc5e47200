/**
 * Translates a PCRE pattern from the rule files into a JavaScript RegExp with the same meaning on
 * byte strings. ModSecurity compiles with DOTALL and MULTILINE, so the flags are `s` and `m`.
 * Throws with the reason when a construct has no JavaScript equivalent.
 */
export function pcreToRegExp(pattern: string, global = false): RegExp {
  let flags = 'sm'
  let p = pattern
  // A leading inline flag group applies to the whole pattern.
  const lead = /^\(\?([imsx]+)\)/.exec(p)
  if (lead) {
    if (lead[1]!.includes('i')) flags += 'i'
    if (lead[1]!.includes('x')) throw new Error('extended (?x) patterns are not supported')
    p = p.slice(lead[0].length)
  }
  // `^(?i)…`: a case-insensitive flag after an anchor still covers everything that can match.
  if (/^\^\(\?i\)/.test(p)) {
    flags += flags.includes('i') ? '' : 'i'
    p = `^${p.slice(5)}`
  }
  if (/\(\?[imsx]*-?[imsx]*\)/.test(p)) throw new Error('inline flags in the middle of a pattern')
  p = p
    .replaceAll('(?>', '(?:')
    .replaceAll('(?P<', '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\[zZ]/g, '$')
    .replace(/\[:alpha:\]/g, 'a-zA-Z')
    .replace(/\[:digit:\]/g, '0-9')
    .replace(/\[:alnum:\]/g, 'a-zA-Z0-9')
    .replace(/\[:space:\]/g, '\\s')
    .replace(/\[:upper:\]/g, 'A-Z')
    .replace(/\[:lower:\]/g, 'a-z')
    .replace(/\[:punct:\]/g, '!-\\/:-@\\[-`{-~')
    .replace(/\[:xdigit:\]/g, '0-9a-fA-F')
    .replace(/\\h/g, '[ \\t]')
  if (/\\[QEGKR]/.test(p)) throw new Error('PCRE escape without a JavaScript equivalent')
  // Possessive quantifiers: dropping the `+` keeps the matches, only the backtracking differs.
  p = p.replace(/([^\\])([*+?}])\+/g, '$1$2')
  return new RegExp(p, global ? `${flags}g` : flags)
}
