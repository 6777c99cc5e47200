import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { isIPv6 } from 'node:net'
import type { TestContext } from 'node:test'

/** An SRV record as the test server answers it. */
export interface SrvRecord {
  readonly priority: number
  readonly weight: number
  readonly port: number
  readonly target: string
}

/** What the test server answers for one name; a name it does not hold gets NXDOMAIN. */
export interface DnsAnswer {
  a?: string[]
  aaaa?: string[]
  srv?: SrvRecord[]
  /** TTL of every record, in seconds. Default 1. */
  ttl?: number
  /** Answer SERVFAIL instead: the name stops resolving. */
  fail?: boolean
}

/** A DNS server on a free loopback UDP port; `records` can be changed while it runs. */
export interface TestDns {
  /** `127.0.0.1:PORT`, for a config's `discovery.resolvers`. */
  readonly address: string
  readonly records: Map<string, DnsAnswer>
  /** Queries answered so far, as `type name`. */
  readonly asked: string[]
}

const types = { A: 1, AAAA: 28, SRV: 33 } as const

/**
 * Starts a DNS server over UDP (RFC 1035) that answers A, AAAA and SRV questions from `records`,
 * closed when the test ends. Enough of the protocol for a resolver: one question, answers that
 * point back to it, no compression in SRV targets.
 */
export async function startDns(t: TestContext, records: Record<string, DnsAnswer> = {}): Promise<TestDns> {
  const socket = createSocket('udp4')
  const dns: TestDns = { address: '', records: new Map(Object.entries(records)), asked: [] }
  socket.on('message', (query, peer) => {
    const reply = answer(query, dns)
    if (reply) socket.send(reply, peer.port, peer.address)
  })
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  t.after(() => socket.close())
  return Object.assign(dns, { address: `127.0.0.1:${socket.address().port}` })
}

function answer(query: Buffer, dns: TestDns): Buffer | undefined {
  if (query.length < 17) return undefined
  let at = 12
  const labels: string[] = []
  while (query[at]! > 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString())
    at += query[at]! + 1
  }
  const questionEnd = at + 5
  const type = query.readUInt16BE(at + 1)
  const name = labels.join('.').toLowerCase()
  dns.asked.push(`${type} ${name}`)
  const found = dns.records.get(name)
  const ttl = found?.ttl ?? 1
  const records: Buffer[] = []
  if (found && !found.fail) {
    if (type === types.A)
      for (const ip of found.a ?? []) records.push(record(type, ttl, Buffer.from(ip.split('.').map(Number))))
    if (type === types.AAAA) for (const ip of found.aaaa ?? []) records.push(record(type, ttl, ipv6Bytes(ip)))
    if (type === types.SRV)
      for (const r of found.srv ?? []) {
        const head = Buffer.alloc(6)
        head.writeUInt16BE(r.priority, 0)
        head.writeUInt16BE(r.weight, 2)
        head.writeUInt16BE(r.port, 4)
        records.push(record(type, ttl, Buffer.concat([head, nameBytes(r.target)])))
      }
  }
  const header = Buffer.alloc(12)
  query.copy(header, 0, 0, 2)
  // QR, RD copied, RA; RCODE 3 (NXDOMAIN) for an unknown name, 2 (SERVFAIL) for a failing one.
  const rcode = !found ? 3 : found.fail ? 2 : 0
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(records.length, 6)
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records])
}

/** One answer record whose name points back to the question (offset 12). */
function record(type: number, ttl: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12)
  head.writeUInt16BE(0xc00c, 0)
  head.writeUInt16BE(type, 2)
  head.writeUInt16BE(1, 4)
  head.writeUInt32BE(ttl, 6)
  head.writeUInt16BE(data.length, 10)
  return Buffer.concat([head, data])
}

function nameBytes(name: string): Buffer {
  const parts = name.split('.').filter(Boolean)
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])),
    Buffer.from([0]),
  ])
}

function ipv6Bytes(ip: string): Buffer {
  if (!isIPv6(ip)) throw new Error(`not an IPv6 address: ${ip}`)
  const [head, tail = ''] = ip.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  const out = Buffer.alloc(16)
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2)
  return out
}
