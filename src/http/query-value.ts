/**
 * The first value of query argument `name` in a request target, decoded (`+` as space), "" for a
 * bare `?name`, undefined when absent. Allocates nothing when the target has no query.
 */
export function queryValue(target: string, name: string): string | undefined {
  const q = target.indexOf('?')
  if (q < 0) return undefined
  let start = q + 1
  while (start <= target.length) {
    let end = target.indexOf('&', start)
    if (end < 0) end = target.length
    const eq = target.indexOf('=', start)
    const keyEnd = eq >= 0 && eq < end ? eq : end
    if (decode(target.slice(start, keyEnd)) === name) return keyEnd === end ? '' : decode(target.slice(keyEnd + 1, end))
    start = end + 1
  }
  return undefined
}

function decode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return text
  }
}
