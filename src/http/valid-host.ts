// RFC 3986 §3.2: an IP literal or a reg-name (unreserved, pct-encoded, sub-delims), then an
// optional port. No userinfo: `user@host` in a request is how proxies get tricked into open relays.
const authorityPattern = /^(?:\[[0-9a-f:.]+\]|[\w.~!$&'()*+,;=%-]*)(?::\d{0,5})?$/i

/**
 * Whether a request names its host the way RFC 9112 §3.2 demands: at most one Host field line,
 * and an `authority` (the Host value, or the authority of an absolute-form target) that is a host
 * with an optional port. A request that fails must get 400.
 */
export function validHost(rawHeaders: readonly string[], authority: string): boolean {
  let hosts = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return false
  }
  return authorityPattern.test(authority)
}
