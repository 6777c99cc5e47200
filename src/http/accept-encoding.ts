/**
 * Chooses the content coding for a response from the request's `Accept-Encoding` (RFC 9110
 * §12.5.3) among `offered`, which lists the codings Portico may apply in order of preference.
 * Returns the chosen coding, or undefined to send the body as it is.
 *
 * The highest q-value wins; equal q-values go to the earlier coding in `offered`. A coding the
 * header does not name takes the q-value of `*`, if any; `q=0` means "not acceptable". `x-gzip` is
 * `gzip` (§8.4.1.3). A coding is never chosen over an `identity` the client rates higher. Without
 * the header, or with an empty one, nothing is compressed: clients that decode send the header.
 * When nothing is acceptable, not even identity, the body goes as it is (§12.5.3 allows it) rather
 * than a 406 the backend never asked for.
 */
export function acceptEncoding<C extends string>(header: string | undefined, offered: readonly C[]): C | undefined {
  if (header === undefined || header === '') return undefined
  const star = qOf(header, '*')
  let best: C | undefined
  let bestQ = 0
  for (const coding of offered) {
    let q = qOf(header, coding)
    if (q === undefined) q = star ?? 0
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  if (best === undefined) return undefined
  const identity = qOf(header, 'identity') ?? star ?? 0
  return identity > bestQ ? undefined : best
}

/**
 * The q-value the header gives `coding` (lower case), or undefined when it does not name it. A
 * malformed q-value counts as 0: a client that cannot say how much it wants a coding gets none.
 */
function qOf(header: string, coding: string): number | undefined {
  const n = header.length
  let i = 0
  while (i < n) {
    let end = header.indexOf(',', i)
    if (end === -1) end = n
    let semi = header.indexOf(';', i)
    if (semi === -1 || semi > end) semi = end
    if (nameIs(header, i, semi, coding) || (coding === 'gzip' && nameIs(header, i, semi, 'x-gzip'))) {
      return semi === end ? 1 : qValue(header.slice(semi + 1, end))
    }
    i = end + 1
  }
  return undefined
}

/** Whether `header[from, to)`, without surrounding whitespace, is `name`, ignoring case. */
function nameIs(header: string, from: number, to: number, name: string): boolean {
  while (from < to && isSpace(header.charCodeAt(from))) from++
  while (to > from && isSpace(header.charCodeAt(to - 1))) to--
  return to - from === name.length && header.slice(from, to).toLowerCase() === name
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9
}

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
const qPattern = /(?:^|;)[ \t]*q[ \t]*=[ \t]*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)[ \t]*(?:;|$)/i

/** The q parameter among one element's parameters; 1 when there is none, 0 when it is malformed. */
function qValue(params: string): number {
  const m = qPattern.exec(params)
  if (m) return Number(m[1])
  return /(?:^|;)[ \t]*q[ \t]*=/i.test(params) ? 0 : 1
}
