import { AddressSet } from '../../http/cidr.ts'
import type { Matcher } from './matcher.ts'

/** Client address condition: the client address (see client-address.ts) is in one of the CIDRs, v4 or v6. */
export function clientMatcher(condition: string | readonly string[]): Matcher {
  const set = new AddressSet(typeof condition === 'string' ? [condition] : condition)
  return { test: (x) => set.has(x.clientAddress) }
}
