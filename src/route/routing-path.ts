/** What a listener does with `%2F`, `%5C` and `\` in a path: refuse the request, keep them as data, or read them as `/`. */
export type EscapedSlashes = 'reject' | 'keep' | 'decode'

/** What a listener does with `;` parameters in path segments (`/a;jsessionid=1/b`): remove them, keep them, or refuse the request. */
export type PathParameters = 'strip' | 'keep' | 'reject'

/** How a listener normalises request paths, built from its `paths` block. */
export interface PathRules {
  readonly escapedSlashes: EscapedSlashes
  readonly parameters: PathParameters
  /** Whether path conditions and rewrites compare without regard to ASCII case; the path itself keeps its case. */
  readonly ignoreCase: boolean
}

/**
 * The request target (origin form) with its path normalised, as routes match it and the backend
 * receives it: percent-encoded unreserved characters decoded (RFC 3986 §2.3) and other escapes in
 * upper case (§6.2.2.1); `%2F`, `%5C` and `\` refused, kept or read as `/` by `escapedSlashes`;
 * `;` parameters of each segment handled by `parameters`; duplicate slashes merged; dot segments
 * resolved (§5.2.4), never above the root. The query is kept as sent. Returns undefined for a path
 * that must be refused (400): a fragment (`#`, never valid in a request target, RFC 9112 §3.2), a
 * `%` not followed by two hex digits, or what the rules refuse. Returns the very string, without
 * allocating, when there is nothing to normalise.
 */
export function normaliseTarget(target: string, rules: PathRules): string | undefined {
  let end = target.length
  let plain = true
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c === 63) {
      end = i
      break
    }
    // '%', ';', '#' and '\' need a look, and so does '/' followed by '/' or '.'.
    if (c === 37 || c === 59 || c === 35 || c === 92) plain = false
    else if (c === 47) {
      const next = target.charCodeAt(i + 1)
      if (next === 47 || next === 46) plain = false
    }
  }
  if (plain) return target
  const path = normalisePath(target.slice(0, end), rules)
  if (path === undefined) return undefined
  return end === target.length ? path : path + target.slice(end)
}

/** The path part of a normalised target: what path conditions are tested on. */
export function pathOf(target: string): string {
  const q = target.indexOf('?')
  return q < 0 ? target : target.slice(0, q)
}

function normalisePath(path: string, rules: PathRules): string | undefined {
  if (path.charCodeAt(0) !== 47) return undefined
  let decoded = ''
  let from = 0
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 35) return undefined
    if (c === 92) {
      // Windows, IIS and some frameworks read a backslash as a separator.
      if (rules.escapedSlashes === 'reject') return undefined
      if (rules.escapedSlashes === 'decode') {
        decoded += `${path.slice(from, i)}/`
        from = i + 1
      }
      continue
    }
    if (c !== 37) continue
    const byte = (hex(path.charCodeAt(i + 1)) << 4) | hex(path.charCodeAt(i + 2))
    if (byte < 0) return undefined
    decoded += path.slice(from, i)
    from = i + 3
    if (unreserved(byte)) decoded += String.fromCharCode(byte)
    else if (byte === 0x2f || byte === 0x5c) {
      if (rules.escapedSlashes === 'reject') return undefined
      decoded += rules.escapedSlashes === 'decode' ? '/' : byte === 0x2f ? '%2F' : '%5C'
    } else decoded += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`
    i += 2
  }
  decoded += path.slice(from)

  const segments = decoded.split('/')
  const out: string[] = []
  for (let i = 1; i < segments.length; i++) {
    let s = segments[i]!
    const last = i === segments.length - 1
    // Tomcat and Jetty drop `;` parameters before resolving dot segments: `/x/..;/admin` is `/admin` to them.
    const semi = rules.parameters === 'keep' ? -1 : s.indexOf(';')
    if (semi >= 0) {
      if (rules.parameters === 'reject') return undefined
      s = s.slice(0, semi)
    }
    if (s === '..') out.pop()
    if (s === '.' || s === '..' || s === '') {
      if (last) out.push('')
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}

/** The value of a hex digit, or a large negative number for any other character (NaN included). */
function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -0x1000
}

/** RFC 3986 §2.3: ALPHA, DIGIT, "-", ".", "_", "~". */
function unreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  )
}

/**
 * Whether `path` starts with `base` on a whole segment (`/api` takes `/api` and `/api/x`, not
 * `/apix`). With `ignoreCase`, ASCII letters of `path` are folded and `base` must be in lower case.
 */
export function startsWithSegment(path: string, base: string, ignoreCase: boolean): boolean {
  if (path.length < base.length) return false
  if (path.length > base.length && path.charCodeAt(base.length) !== 47) return false
  return sameText(path, base, base.length, ignoreCase)
}

/** Whether `path` equals `base`, `ignoreCase` folding ASCII letters of `path` (`base` is then in lower case). */
export function samePath(path: string, base: string, ignoreCase: boolean): boolean {
  return path.length === base.length && sameText(path, base, base.length, ignoreCase)
}

function sameText(path: string, base: string, length: number, ignoreCase: boolean): boolean {
  if (!ignoreCase) return path.startsWith(base)
  for (let i = 0; i < length; i++) {
    let c = path.charCodeAt(i)
    if (c >= 65 && c <= 90) c += 32
    if (c !== base.charCodeAt(i)) return false
  }
  return true
}
