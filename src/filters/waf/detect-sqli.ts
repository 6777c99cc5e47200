/**
 * Portico's SQL injection detector for `@detectSQLi`: a value is an injection when it breaks out of
 * a quoted or numeric SQL context and continues with SQL, or carries a stacked query, a UNION, a
 * time-delay function or a tautology. Prose that merely holds SQL words ("select a size", "drop us
 * a line") and names with apostrophes ("O'Brien") are not.
 */
const patterns: readonly RegExp[] = [
  // Quote, then a boolean operator and an operand: ' or 1=1, ' or 'a'='a, " || "x.
  /['"`]\s*\)*\s*(?:or|and|xor|\|\||&&)\s*[\s('"`\d@!-]/i,
  // Quote, then a comment or statement end: admin'--, ' #, '/*, ';.
  /['"`]\s*\)*\s*(?:--|#|\/\*|;)/,
  // Quote, then SQL keywords: ' union select, ' order by, ' having.
  /['"`]\s*\)*\s*(?:union\b|select\b|having\b|order\s+by\b|group\s+by\b|waitfor\b|procedure\b|into\b|limit\b|like\b|regexp\b|rlike\b|is\s+not\b|is\s+null\b|=|<|>)/i,
  /\bunion\b[\s\S]{0,40}?\bselect\b/i,
  /;\s*(?:drop|delete|insert|update|select|shutdown|exec|execute|declare|create|alter|truncate|grant|waitfor)\b/i,
  /\b(?:sleep|benchmark|pg_sleep|load_file|extractvalue|updatexml|char|concat|group_concat|ascii|substring|substr|mid|version|database|user|if)\s*\(/i,
  /\bwaitfor\s+delay\b/i,
  // Quote, arithmetic, then a function call: '-alert(1)-'.
  /^['"`]\s*[-+*/|&^%]\s*\w+\s*\(/,
  /^\s*[-+]?\d+\s*\)*\s*(?:or|and|xor|\|\||&&)\s+[\w'"(]+\s*(?:=|<|>|like\b|between\b|is\b)/i,
  /^\s*[-+]?\d+\s*\)*\s*(?:union|order\s+by|group\s+by|having|--|#|\/\*|;)/i,
  /\b(?:or|and)\s+\d+\s*(?:=|<|>|<>|!=)\s*\d+/i,
  /\b(?:or|and)\s+'[^']*'\s*(?:=|<|>|like)\s*'/i,
  /@@(?:version|datadir|hostname|basedir)\b/i,
  /\binformation_schema\b|\bsysobjects\b|\bsys\.\w+\b|\bpg_catalog\b|\bmysql\.user\b/i,
  /\binto\s+(?:out|dump)file\b/i,
  /\b(?:exec|execute)\s+(?:xp_|sp_)\w+/i,
  /^\s*select\s+[\w*@(),.\s]+\s+from\s+\w/i,
  /\bselect\s+\*\s+from\b/i,
  /\b(?:insert\s+into|delete\s+from)\s+\w+/i,
  /\b(?:drop|truncate|alter)\s+(?:table|database|schema|user)\s+\w/i,
  /\bupdate\s+\w+\s+set\s+\w+\s*=/i,
]

const token = /'[^']*'?|"[^"]*"?|`[^`]*`?|\d+(?:\.\d+)?|[A-Za-z_@$][\w@$.]*|--|\/\*|#|&&|\|\||\S/g

/**
 * The start of a value that decides: its first six tokens. As libinjection fingerprints only the
 * first five tokens, SQL that follows ordinary words ("note 1; drop table t") is not an injection.
 */
function head(whole: string): string {
  // A URL's address part is one token to libinjection, whatever its punctuation.
  const value = whole.replace(/^[a-z][\w+.-]*:\/\/[^?\s'"]*\?(?:[\w.-]*=)?/i, '')
  token.lastIndex = 0
  let end = value.length
  for (let n = 0; n < 6; n++) {
    const m = token.exec(value)
    if (!m) return value
    end = m.index + m[0].length
  }
  return value.slice(0, end)
}

/** Whether `value` reads as an SQL injection; returns the matched fragment, or undefined. */
export function detectSqli(value: string): string | undefined {
  if (value.length < 2) return undefined
  const start = head(value)
  // Words, then a number or word, and no quote: prose to libinjection, whatever SQL follows.
  if (/^[A-Za-z]+\s+(?:[A-Za-z]+|\d+)\b/.test(start) && !/['"`]/.test(start)) return undefined
  for (const p of patterns) {
    const m = p.exec(start)
    if (m) return m[0]
  }
  return undefined
}
