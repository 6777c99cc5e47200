import type { Resolver } from 'node:dns/promises'

/** A server a source found: its address and weight. */
export interface FoundServer {
  readonly address: string
  readonly weight: number
}

/** What one lookup found: servers, and how long the answer may be kept (undefined: the answer said not). */
export interface Found {
  readonly servers: readonly FoundServer[]
  readonly ttlMs: number | undefined
}

/**
 * Resolves `name`'s A and AAAA records: each is a server on `port` with `weight`. Rejects when
 * neither family gives a record (an error, a timeout, or no records), with the first error.
 */
export async function lookupName(resolver: Resolver, name: string, port: number, weight: number): Promise<Found> {
  const [v4, v6] = await Promise.allSettled([
    resolver.resolve4(name, { ttl: true }),
    resolver.resolve6(name, { ttl: true }),
  ])
  const servers: FoundServer[] = []
  let ttl = Number.POSITIVE_INFINITY
  if (v4.status === 'fulfilled')
    for (const r of v4.value) {
      servers.push({ address: `${r.address}:${port}`, weight })
      ttl = Math.min(ttl, r.ttl)
    }
  if (v6.status === 'fulfilled')
    for (const r of v6.value) {
      servers.push({ address: `[${r.address}]:${port}`, weight })
      ttl = Math.min(ttl, r.ttl)
    }
  if (servers.length === 0) {
    const failed = [v4, v6].find((r) => r.status === 'rejected')
    throw failed ? (failed as PromiseRejectedResult).reason : new Error(`no A or AAAA record for ${name}`)
  }
  return { servers, ttlMs: Number.isFinite(ttl) ? ttl * 1000 : undefined }
}

/**
 * Resolves an SRV name: each record of the lowest priority is a server at its target's addresses
 * (resolved with the same resolver) and its port, weighted by its weight (0 counts as 1; above
 * 1000 as 1000). SRV answers carry no TTL here: the caller resolves again on its interval.
 */
export async function lookupSrv(resolver: Resolver, name: string): Promise<Found> {
  const records = await resolver.resolveSrv(name)
  if (records.length === 0) throw new Error(`no SRV record for ${name}`)
  const priority = Math.min(...records.map((r) => r.priority))
  const chosen = records.filter((r) => r.priority === priority)
  const found = await Promise.all(
    chosen.map((r) => lookupName(resolver, r.name, r.port, Math.min(1000, Math.max(1, r.weight)))),
  )
  return { servers: found.flatMap((f) => f.servers), ttlMs: undefined }
}
