import { isIP } from 'node:net'
import { z } from 'zod'
import { splitAddress } from '../values/address.ts'
import { duration } from '../values/units.ts'

const weight = z
  .number()
  .int()
  .min(0)
  .max(1000)
  .default(1)
  .describe('Weight of each server found this way, 0 to 1000 (SRV records carry their own). Default 1.')

const dnsName = z.string().check((ctx) => {
  const at = splitAddress(ctx.value)
  if (at === undefined || isIP(at.host) !== 0 || !/^[A-Za-z0-9_.-]+$/.test(at.host)) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `expected a DNS name and port such as "web.internal:3000", found "${ctx.value}"`,
    })
  }
})

/** One source of a pool's servers: a DNS name (A and AAAA), an SRV name, or a file. */
export const discoverEntrySchema = z
  .union([
    z.strictObject({
      dns: dnsName.describe(
        'A DNS name and port, "web.internal:3000": each A and AAAA record is a server on that port. Resolved again as its TTL says, within discovery.min_ttl and max_ttl.',
      ),
      weight,
    }),
    z.strictObject({
      srv: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, 'expected an SRV name such as "_http._tcp.web.internal"')
        .describe(
          'An SRV name, "_http._tcp.web.internal": each record is a server at its target and port, weighted by its weight (records of the lowest priority only). Resolved again every discovery.interval.',
        ),
    }),
    z.strictObject({
      file: z
        .string()
        .min(1)
        .describe(
          'A JSON or YAML file (by its extension: .json, else YAML) holding a list of servers, each "host:port" or {address, weight}, watched: other tools write it, and Portico follows. A missing or invalid file keeps the servers it last read, and is logged.',
        ),
    }),
  ])
  .describe('Where the pool finds more servers: {dns: "name:port"}, {srv: "_service._proto.name"} or {file: PATH}.')

export type DiscoverEntry = z.output<typeof discoverEntrySchema>

/** The top-level `discovery` section: how names are resolved and how long what they gave is kept. */
export const discoverySchema = z
  .strictObject({
    resolvers: z
      .array(
        z.string().check((ctx) => {
          const at = splitAddress(ctx.value)
          if (isIP(ctx.value) === 0 && (at === undefined || isIP(at.host.replace(/^\[|\]$/g, '')) === 0))
            ctx.issues.push({
              code: 'custom',
              input: ctx.value,
              message: `expected a DNS server's IP address, with or without a port ("10.0.0.2", "127.0.0.1:5353"), found "${ctx.value}"`,
            })
        }),
      )
      .min(1)
      .optional()
      .describe("DNS servers to ask, IP with an optional port. Default: the system's (/etc/resolv.conf)."),
    interval: duration(
      'How often SRV names, and names whose answer carries no TTL, are resolved again. Default "30s".',
    ).prefault('30s'),
    min_ttl: duration(
      'A record\'s TTL is raised to at least this before a name is resolved again. Default "5s".',
    ).prefault('5s'),
    max_ttl: duration('A record\'s TTL is lowered to at most this. Default "5m".').prefault('5m'),
    timeout: duration('How long one lookup may take before it counts as failed. Default "5s".').prefault('5s'),
    keep_last_known: duration(
      'How long a name that stops resolving (an error, a timeout, or no records) keeps the servers it last gave; it is asked again every min_ttl meanwhile, and logged. Then its servers leave. Default "10m".',
    ).prefault('10m'),
    drain_deadline: duration(
      'How long a server that discovery no longer finds drains (no new requests, those in flight finish) before it leaves anyway. Default "30s".',
    ).prefault('30s'),
  })
  .refine((d) => d.min_ttl <= d.max_ttl, { message: 'min_ttl must not be above max_ttl', path: ['min_ttl'] })
  .describe("How pools' `discover` sources are followed: DNS servers, re-resolution bounds, what a failing name keeps.")

export type DiscoveryConfig = z.output<typeof discoverySchema>
