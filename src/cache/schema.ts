import { z } from 'zod'
import { cidr } from '../values/common.ts'
import { tokenName } from '../values/schema-parts.ts'
import { duration, size } from '../values/units.ts'

const key = z
  .strictObject({
    query: z
      .enum(['keep', 'sort', 'ignore'])
      .default('keep')
      .describe(
        'The query string in the key: "keep" it as sent, "sort" its parameters, or "ignore" it. Default "keep".',
      ),
    drop_params: z
      .array(z.string().min(1))
      .default([])
      .describe('Query parameters left out of the key (e.g. "utm_source"). Default none.'),
    headers: z.array(tokenName).default([]).describe('Request headers whose values are part of the key. Default none.'),
    cookies: z.array(z.string().min(1)).default([]).describe('Cookies whose values are part of the key. Default none.'),
  })
  .describe('What makes two requests the same object: scheme, host and path always, then these.')

const bypass = z
  .strictObject({
    cookies: z
      .array(z.string().min(1))
      .default([])
      .describe('A request with any of these cookies skips the cache (e.g. a session cookie). Default none.'),
    headers: z
      .array(tokenName)
      .default([])
      .describe('A request with any of these headers skips the cache. Default none.'),
  })
  .describe('Requests that are forwarded without looking up or storing anything; Cache-Status says fwd=bypass.')

const purge = z
  .strictObject({
    allow: z
      .array(cidr)
      .default([])
      .describe(
        'Client addresses and CIDR ranges allowed the PURGE method on this route. Default none: PURGE gets 405.',
      ),
    tag_header: tokenName
      .default('surrogate-key')
      .describe(
        'The backend response header that tags a stored response (space- or comma-separated tags, e.g. Cache-Tag); a PURGE with this header removes every response with one of its tags. Default "surrogate-key".',
      ),
  })
  .describe(
    'Purging: `PURGE /path` removes that URL, `PURGE /path*` every URL under the prefix, and a PURGE with the tag header every response tagged so. Reaches every worker.',
  )

/** The `cache:` block of a route; absent means the route does not cache. */
export const cacheSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Whether the route caches. Default true once this block is given.'),
    memory: size(
      'Bytes of responses the memory tier holds per worker, least recently used dropped first. Default "64MiB".',
    ).prefault('64MiB'),
    max_object_size: size(
      'Largest response body stored; a larger one passes through unstored. Default "8MiB".',
    ).prefault('8MiB'),
    min_object_size: size('Smallest response body stored. Default 0.').prefault(0),
    store_after_client_abort: z
      .boolean()
      .default(true)
      .describe(
        'Whether a response being stored is still read from the backend and stored when its client leaves before the end (up to max_object_size). Default true; false stops the backend request with the client.',
      ),
    methods: z
      .array(z.enum(['GET', 'HEAD']))
      .min(1)
      .default(['GET', 'HEAD'])
      .describe(
        'Methods the cache answers: GET (looked up and stored) and HEAD (answered from a stored GET). A request with a method left out skips the cache (Cache-Status fwd=bypass). Other methods always pass through. Default both.',
      ),
    statuses: z
      .array(z.number().int().min(200).max(599))
      .optional()
      .describe('Statuses that may be stored. Default: every status RFC 9111 lets a cache store.'),
    default_ttl: duration(
      'Freshness given to a storable response whose backend states none (no max-age, s-maxage, Expires or Last-Modified). Default "0s": not stored.',
    ).prefault('0s'),
    heuristic_max: duration(
      'Cap on heuristic freshness (10% of the time since Last-Modified, RFC 9111 §4.2.2). Default "1h".',
    ).prefault('1h'),
    grace: duration(
      'How long past its lifetime a stored response may still be served while it is refreshed in the background, or when the backend fails, if the backend said neither stale-while-revalidate nor stale-if-error. Default "0s".',
    ).prefault('0s'),
    store_set_cookie: z
      .boolean()
      .default(false)
      .describe(
        'Whether responses with Set-Cookie are stored; the cookie itself is never stored nor served to another client. Default false.',
      ),
    ignore_client_cache_control: z
      .boolean()
      .default(false)
      .describe(
        'Whether request Cache-Control (no-cache, max-age, min-fresh, max-stale, only-if-cached) is ignored. Default false: honoured.',
      ),
    coalesce_timeout: duration(
      'How long a request waits for another one fetching the same object before it fetches itself; "0s" turns coalescing off. Default "10s".',
    ).prefault('10s'),
    disk: z
      .strictObject({
        path: z.string().min(1).describe('Directory of the disk tier; made when missing. Several workers share it.'),
        max_size: size(
          'Bytes of files the directory holds; the least recently written go first. Default "1GiB".',
        ).prefault('1GiB'),
      })
      .optional()
      .describe(
        'A disk tier behind the memory tier: responses (Vary variants included) are also written here, survive a restart, and a disk hit is promoted to memory. Default: none.',
      ),
    key: key.prefault({}),
    bypass: bypass.prefault({}),
    purge: purge.prefault({}),
  })
  .describe("An RFC 9111 shared cache in front of this route's pool. Absent: nothing is cached.")

export type CacheConfig = z.output<typeof cacheSchema>
