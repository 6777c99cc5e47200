/**
 * The free-text default: argument fields that carry people's sentences (a message, a review, a
 * description) where prose such as "Union members get 10% off; select items only" reads to a few
 * rules like a command or SQL. Those rules skip such a field's value only when it looks like prose;
 * every other rule still inspects it, and a value with code punctuation is inspected by all.
 */

/** Field names (the last segment of a JSON path, or a form or query name) taken for free text. */
export const defaultFreeTextFields = [
  'message',
  'description',
  'comment',
  'comments',
  'review',
  'bio',
  'about',
  'note',
  'notes',
  'summary',
  'feedback',
  'body',
  'text',
]

/**
 * The rules that take prose for an attack: 932115 (Windows command after `;` or `&`: "…; select"),
 * 942200, 942260, 942350 and 942480 (SQL keywords after punctuation). Measured on the ordinary
 * corpus of test/filters/waf/ (docs/firewall.md).
 */
export const freeTextRules: ReadonlySet<number> = new Set([932115, 942200, 942260, 942350, 942480])

// Code, markup, SQL comments, quoting tricks, hex and escapes: any of these and it is not prose.
const code = /[<>(){}[\]=|`$*\\^~@#]|--|\/\*|\/\/|0x[0-9a-f]|%[0-9a-f]{2}|&&|;\s*$|'\s*(?:or|and|;|,)|^\s*['";]/i
const letter = /\p{L}/gu

/**
 * Whether a value reads as sentences: at least three words, mostly letters and spaces, and none
 * of the characters or sequences code or injections need.
 */
export function looksLikeProse(value: string): boolean {
  if (value.length > 4096 || code.test(value)) return false
  const text = Buffer.from(value, 'latin1').toString('utf8')
  const words = text.split(/\s+/).filter((w) => w !== '')
  if (words.length < 3) return false
  const letters = text.match(letter)?.length ?? 0
  const spaces = words.length - 1
  return (letters + spaces) / text.length >= 0.8
}

/** Whether an argument's full name (`ARGS:json.items.array_0.message`) ends in a free-text field. */
export function isFreeTextField(name: string, fields: ReadonlySet<string>): boolean {
  const colon = name.indexOf(':')
  const dot = name.lastIndexOf('.')
  return fields.has(name.slice(Math.max(colon, dot) + 1).toLowerCase())
}

/** The collections of argument values, which the free-text default applies to. */
const argValues: ReadonlySet<string> = new Set(['ARGS', 'ARGS_GET', 'ARGS_POST'])

/** Whether a free-text rule skips this argument of a collection: a free-text field whose value reads as prose. */
export function skipsProse(
  fields: ReadonlySet<string>,
  ruleId: number,
  collection: string,
  [name, value]: readonly [string, string],
): boolean {
  return (
    freeTextRules.has(ruleId) && argValues.has(collection) && isFreeTextField(name, fields) && looksLikeProse(value)
  )
}
