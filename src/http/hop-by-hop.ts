/**
 * The connection-specific fields a proxy must not forward (RFC 9110 §7.6.1), lower case.
 */
// `Trailer` is end to end and stays; `Proxy-Authorization` is for this proxy, never for the backend.
export const hopByHopNames = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
] as const
const hopByHop = new Set<string>(hopByHopNames)

/** Whether a lower-case header name is hop-by-hop by definition. */
export function isHopByHop(name: string): boolean {
  return hopByHop.has(name)
}

/**
 * The lower-case names listed in a `Connection` header value, which are hop-by-hop for this
 * message (RFC 9110 §7.6.1). Returns undefined when there is none, the common case.
 */
export function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // What nearly every message carries, without splitting it.
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined
  const text = Array.isArray(value) ? value.join(',') : value
  let tokens: Set<string> | undefined
  for (const part of text.split(',')) {
    const token = part.trim().toLowerCase()
    if (token === '' || token === 'close' || token === 'keep-alive') continue
    tokens ??= new Set()
    tokens.add(token)
  }
  return tokens
}
