import { isIP, type Socket, SocketAddress } from 'node:net'
import { handOff } from '../engine/index.ts'
import type { AddressSet } from '../http/cidr.ts'
import { readFirstBytes } from '../http/first-bytes.ts'
import type { Link } from './chain.ts'

/** The client a PROXY protocol header names. */
export interface ProxiedPeer {
  readonly address: string
  readonly port: number
}

// What trusted load balancers said about their connections; entries go with their sockets.
const proxied = new WeakMap<Socket, ProxiedPeer>()

/** The client a trusted PROXY protocol header gave for this connection, or undefined (use the socket's). */
export function proxiedPeer(socket: Socket): ProxiedPeer | undefined {
  return proxied.get(socket)
}

/**
 * The PROXY protocol link of the connection chain: reads a PROXY protocol header (v1 text or v2
 * binary) at the start of every connection before the next link sees a byte. A connection
 * without a valid header, or that sends none within `timeoutMs()`, is closed (HAProxy's
 * `accept-proxy`). The address in the header is believed only when the connection comes from
 * `trusted()`: anyone else's header is read and ignored, so a client cannot claim an address.
 */
export function acceptProxyProtocol(trusted: () => AddressSet, timeoutMs: () => number): Link {
  return (next) => (socket: Socket) =>
    readFirstBytes(socket, timeoutMs(), parseHeader, (header, buffered) => {
      if (header === 'invalid') return void socket.destroy()
      if (header.peer && trusted().has(socket.remoteAddress ?? '')) proxied.set(socket, header.peer)
      handOff(socket, buffered.subarray(header.length), next)
    })
}

interface Header {
  /** Bytes the header takes. */
  readonly length: number
  /** Undefined for `UNKNOWN` (v1) and `LOCAL` or unspecified families (v2): the socket's address stands. */
  readonly peer: ProxiedPeer | undefined
}

const v2Signature = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')
const v1Prefix = Buffer.from('PROXY ', 'latin1')
// The spec's limit for a v1 line, CRLF included.
const v1MaxBytes = 107

/** Reads a PROXY header at the start of `b`. */
function parseHeader(b: Buffer): Header | 'incomplete' | 'invalid' {
  const sig = Math.min(b.length, 12)
  if (b.subarray(0, sig).equals(v2Signature.subarray(0, sig))) return b.length < 16 ? 'incomplete' : parseV2(b)
  const pre = Math.min(b.length, v1Prefix.length)
  if (b.subarray(0, pre).equals(v1Prefix.subarray(0, pre))) return parseV1(b)
  return 'invalid'
}

// "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n" or "PROXY UNKNOWN …\r\n".
function parseV1(b: Buffer): Header | 'incomplete' | 'invalid' {
  const end = b.indexOf('\r\n')
  if (end < 0) return b.length >= v1MaxBytes ? 'invalid' : 'incomplete'
  if (end + 2 > v1MaxBytes) return 'invalid'
  const parts = b.toString('latin1', 0, end).split(' ')
  if (parts[1] === 'UNKNOWN') return { length: end + 2, peer: undefined }
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return 'invalid'
  const port = Number(parts[4])
  const address = parts[2]!
  if (isIP(address) !== (parts[1] === 'TCP4' ? 4 : 6) || !Number.isInteger(port) || port < 0 || port > 65535)
    return 'invalid'
  return { length: end + 2, peer: { address, port } }
}

// 12-byte signature, version/command, family/protocol, 2-byte length, then the addresses.
function parseV2(b: Buffer): Header | 'incomplete' | 'invalid' {
  const versionCommand = b[12]!
  const family = b[13]!
  const length = 16 + b.readUInt16BE(14)
  if (versionCommand >> 4 !== 2) return 'invalid'
  if (b.length < length) return 'incomplete'
  const command = versionCommand & 0x0f
  if (command === 0) return { length, peer: undefined }
  if (command !== 1) return 'invalid'
  const addressFamily = family >> 4
  if (addressFamily === 1 && length >= 16 + 12) {
    const address = `${b[16]}.${b[17]}.${b[18]}.${b[19]}`
    return { length, peer: { address, port: b.readUInt16BE(24) } }
  }
  if (addressFamily === 2 && length >= 16 + 36) {
    const groups: string[] = []
    for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(16 + i * 2).toString(16))
    // SocketAddress writes the canonical form (RFC 5952): "2001:db8::1", as sockets report it.
    const address = new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address
    return { length, peer: { address, port: b.readUInt16BE(48) } }
  }
  return { length, peer: undefined }
}
