import { isIPv4, SocketAddress } from 'node:net'
import type { Exchange } from '../../exchange.ts'
import { cookieValue } from '../../http/cookie-value.ts'

/** Reads one part of a limit's key from an exchange. */
type Part = (x: Exchange) => string

/**
 * Compiles a limit's key parts (`client/24/64`, `header:X-Api-Key`, …, see schema.ts) into one
 * function that gives the key of an exchange: the parts joined by a separator no header value holds.
 */
export function compileKey(parts: readonly string[], routeName: string): (x: Exchange) => string {
  const readers = parts.map((p) => part(p, routeName))
  if (readers.length === 1) return readers[0]!
  return (x) => {
    let key = readers[0]!(x)
    for (let i = 1; i < readers.length; i++) key += `\n${readers[i]!(x)}`
    return key
  }
}

function part(text: string, routeName: string): Part {
  if (text === 'path') return (x) => pathOnly(x.path)
  if (text === 'route') return () => routeName
  if (text.startsWith('header:')) {
    const name = text.slice(7).toLowerCase()
    return (x) => {
      const v = x.req.headers[name]
      return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v
    }
  }
  if (text.startsWith('cookie:')) {
    const name = text.slice(7)
    return (x) => cookieValue(x.req.headers.cookie, name) ?? ''
  }
  const [, v4, v6] = text.split('/')
  const bits4 = v4 === undefined ? 32 : Number(v4)
  const bits6 = v6 === undefined ? 128 : Number(v6)
  if (bits4 === 32 && bits6 === 128) return (x) => x.clientAddress
  return (x) => addressPrefix(x.clientAddress, bits4, bits6)
}

function pathOnly(path: string): string {
  const q = path.indexOf('?')
  return q < 0 ? path : path.slice(0, q)
}

/** `203.0.113.77`, 24 → `203.0.113.0/24`; an IPv6 address is cut to `bits6` the same way. */
export function addressPrefix(address: string, bits4: number, bits6: number): string {
  if (isIPv4(address)) {
    const n = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0)
    const masked = bits4 === 0 ? 0 : n - (n % 2 ** (32 - bits4))
    return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${bits4}`
  }
  const parsed = SocketAddress.parse(`[${address}]:0`)
  if (!parsed) return address
  const groups = expandIPv6(parsed.address)
  let left = bits6
  const out = groups.map((g) => {
    const keep = Math.max(0, Math.min(16, left))
    left -= 16
    return (keep === 0 ? 0 : g - (g % 2 ** (16 - keep))).toString(16)
  })
  return `${out.join(':')}/${bits6}`
}

function expandIPv6(address: string): number[] {
  const [head, tail] = address.split('::') as [string, string | undefined]
  const a = head === '' ? [] : head.split(':')
  const b = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array(8 - a.length - b.length).fill('0')
  return [...a, ...fill, ...b].map((g) => Number.parseInt(g, 16))
}
