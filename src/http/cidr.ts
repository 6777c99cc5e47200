import { BlockList, isIPv4 } from 'node:net'

/** A set of addresses and CIDR ranges, v4 and v6, that answers `has(ip)` quickly. */
export class AddressSet {
  readonly #list = new BlockList()
  readonly size: number

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [ip, bits] = entry.split('/') as [string, string | undefined]
      const type = isIPv4(ip) ? 'ipv4' : 'ipv6'
      if (bits === undefined) this.#list.addAddress(ip, type)
      else this.#list.addSubnet(ip, Number(bits), type)
    }
    this.size = entries.length
  }

  /** Whether `ip` is in the set; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) counts as its IPv4 address. */
  has(ip: string): boolean {
    if (this.size === 0) return false
    if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return this.#list.check(ip.slice(7), 'ipv4')
    return this.#list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6')
  }
}
