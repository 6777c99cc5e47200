import type { IncomingHttpHeaders } from 'node:http'
import { isIP } from 'node:net'
import type { AddressSet } from './cidr.ts'
import { plainAddress } from './forwarded.ts'

/**
 * The client address of a request that came through trusted proxies: walking the hops right to
 * left (X-Forwarded-For, or else the `for=` of Forwarded), the first address that is not a trusted
 * proxy. `peer` is the connection's address, already known to be trusted. A hop that is not an IP
 * (`unknown`, an obfuscated name, garbage) ends the walk at the last address that was one, so no
 * client can claim another's address. Without either header the peer is the client.
 */
export function clientAddress(headers: IncomingHttpHeaders, peer: string, trusted: AddressSet): string {
  const xff = headers['x-forwarded-for']
  const hops = xff !== undefined ? listOf(xff).split(',') : forwardedFor(headers.forwarded)
  let client = plainAddress(peer)
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!)
    if (hop === undefined) break
    client = hop
    if (!trusted.has(hop)) break
  }
  return client
}

function listOf(value: string | string[]): string {
  return Array.isArray(value) ? value.join(',') : value
}

/** The `for=` values of a Forwarded header (RFC 7239), one per element. */
function forwardedFor(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const out: string[] = []
  for (const element of listOf(value).split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=')
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') out.push(pair.slice(eq + 1))
    }
  }
  return out
}

/** `1.2.3.4`, `"1.2.3.4:80"`, `"[2001:db8::1]:443"`, `::ffff:1.2.3.4` → the plain IP; undefined when not an IP. */
function hopAddress(text: string): string | undefined {
  let s = text.trim()
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1)
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    s = end < 0 ? '' : s.slice(1, end)
  } else if (s.indexOf(':') > 0 && s.indexOf(':') === s.lastIndexOf(':')) {
    s = s.slice(0, s.indexOf(':'))
  }
  return isIP(s) === 0 ? undefined : plainAddress(s)
}
