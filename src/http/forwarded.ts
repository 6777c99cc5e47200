/** The client address as an RFC 7239 node: IPv6 in quotes and brackets. */
function forwardedNode(ip: string): string {
  if (ip.startsWith('::ffff:') && !ip.slice(7).includes(':')) return ip.slice(7)
  // A socket's peer address is a valid IP: a colon means IPv6, without isIPv6()'s large regex.
  return ip.includes(':') ? `"[${ip}]"` : ip
}

/** The client address as X-Forwarded-For writes it: IPv4-mapped addresses as plain IPv4. */
export function plainAddress(ip: string): string {
  return ip.startsWith('::ffff:') && !ip.slice(7).includes(':') ? ip.slice(7) : ip
}

function quoteIfNeeded(value: string): string {
  return /^[\w!#$%&'*+.^`|~-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`
}

// The last element made and what it was made from: most requests in a row come from the same
// client for the same authority (a load balancer in front, a client's keep-alive connection).
let lastAddress = ''
let lastSecure = false
let lastAuthority = ''
let lastElement = 'for=;proto=http'

/**
 * This hop's RFC 7239 `Forwarded` element, `for=…;proto=…;host=…`, for a client at `clientAddress`
 * that asked for `authority` (omitted when empty) over TLS or not.
 */
export function forwardedElement(clientAddress: string, secure: boolean, authority: string): string {
  if (clientAddress === lastAddress && secure === lastSecure && authority === lastAuthority) return lastElement
  const host = authority ? `;host=${quoteIfNeeded(authority)}` : ''
  lastElement = `for=${forwardedNode(clientAddress)};proto=${secure ? 'https' : 'http'}${host}`
  lastAddress = clientAddress
  lastSecure = secure
  lastAuthority = authority
  return lastElement
}
