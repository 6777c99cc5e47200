// RFC 3986 §2.3: percent-encoded unreserved characters mean the same as the characters themselves.
const unreserved = /%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|2[Ee]|5[Ff]|7[Ee])/g

/**
 * The path routes are matched on: the target's path without query, with encoded unreserved
 * characters decoded, duplicate slashes merged and dot segments resolved (RFC 3986 §5.2.4), so
 * `/a/../admin`, `//admin` and `/%61dmin` cannot slip past a route meant for `/admin`. Returns the
 * path itself, with no allocation, when there is nothing to normalise.
 */
export function routingPath(target: string): string {
  const q = target.indexOf('?')
  let path = q < 0 ? target : target.slice(0, q)
  if (!path.includes('%') && !path.includes('//') && !path.includes('/.')) return path
  path = path.replace(unreserved, (m) => String.fromCharCode(Number.parseInt(m.slice(1), 16)))
  const out: string[] = []
  const segments = path.split('/')
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!
    const last = i === segments.length - 1
    if (s === '..') out.pop()
    if (s === '.' || s === '..' || (s === '' && !last)) {
      if (last) out.push('')
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}
