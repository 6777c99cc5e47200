/** What a TLS ClientHello asks for: the server name (SNI) and the ALPN protocols offered. */
export interface HelloFacts {
  readonly servername: string | undefined
  readonly protocols: readonly string[]
}

// A TLS record holds at most 2^14 bytes of plaintext (RFC 8446 §5.1), plus its 5-byte header.
const maxRecordBytes = 5 + 16_384

/**
 * Reads the SNI and ALPN extensions of the ClientHello at the start of `b` (its first record):
 * 'incomplete' while more bytes are needed, 'other' when the bytes are not a ClientHello this can
 * read (then the connection goes on untouched, and the TLS stack judges it).
 */
export function readClientHello(b: Buffer): HelloFacts | 'incomplete' | 'other' {
  if (b.length < 5) return b.length > 0 && b[0] !== 0x16 ? 'other' : 'incomplete'
  // Content type 22 (handshake).
  if (b[0] !== 0x16) return 'other'
  const end = 5 + b.readUInt16BE(3)
  if (end > maxRecordBytes) return 'other'
  if (b.length < end) return 'incomplete'
  try {
    return parseHello(b.subarray(5, end))
  } catch {
    return 'other'
  }
}

function parseHello(h: Buffer): HelloFacts | 'other' {
  // Handshake type 1 (client_hello), 3-byte length, then client_version and 32 bytes of random.
  if (h[0] !== 1) return 'other'
  let at = 4 + 2 + 32
  at += 1 + h[at]!
  at += 2 + h.readUInt16BE(at)
  at += 1 + h[at]!
  if (at + 2 > h.length) return { servername: undefined, protocols: [] }
  const extensionsEnd = Math.min(h.length, at + 2 + h.readUInt16BE(at))
  at += 2
  let servername: string | undefined
  const protocols: string[] = []
  while (at + 4 <= extensionsEnd) {
    const type = h.readUInt16BE(at)
    const length = h.readUInt16BE(at + 2)
    const data = h.subarray(at + 4, at + 4 + length)
    at += 4 + length
    // server_name (RFC 6066 §3): list length, then entries of type 0 (host_name).
    if (type === 0 && data.length >= 5 && data[2] === 0)
      servername = data.toString('latin1', 5, 5 + data.readUInt16BE(3))
    // application_layer_protocol_negotiation (RFC 7301 §3.1): list length, then length-prefixed names.
    if (type === 16) {
      for (let p = 2; p < data.length; p += 1 + data[p]!)
        protocols.push(data.toString('latin1', p + 1, p + 1 + data[p]!))
    }
  }
  return { servername: servername?.toLowerCase(), protocols }
}
