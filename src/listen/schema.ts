import { z } from 'zod'
import { clientRulesSchema } from '../http/client-rules-schema.ts'
import { listenerTlsSchema } from '../tls/schema.ts'
import { address } from '../values/common.ts'
import { rateFields } from '../values/schema-parts.ts'
import { duration, size } from '../values/units.ts'

const http2 = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe(
        'Speak HTTP/2: offered by ALPN next to HTTP/1.1 on TLS listeners, and accepted with prior knowledge (h2c) next to HTTP/1.1 on plain ones. Default: true with tls, false without.',
      ),
    max_concurrent_streams: z
      .number()
      .int()
      .min(1)
      .default(128)
      .describe('Most requests open at once on one HTTP/2 connection; more are refused. Default 128.'),
    max_header_list_size: size(
      'Largest request header list (names, values and 32 bytes per field, RFC 9113 §6.5.2). Default "16KiB".',
    ).prefault('16KiB'),
    max_reset_burst: z
      .number()
      .int()
      .min(1)
      .default(200)
      .describe(
        'Streams a client may cancel (RST_STREAM) in a burst on one HTTP/2 connection before it is closed with GOAWAY ENHANCE_YOUR_CALM (rapid-reset protection); the allowance refills at max_resets_per_second. A stream cancelled in the same read as its request never reaches a backend, whatever this is. Default 200.',
      ),
    max_resets_per_second: z
      .number()
      .int()
      .min(1)
      .default(50)
      .describe(
        'Streams a client may cancel (RST_STREAM) per second on one HTTP/2 connection, on average, once its max_reset_burst is spent; faster closes the connection with GOAWAY ENHANCE_YOUR_CALM. Default 50.',
      ),
    max_invalid_frames: z
      .number()
      .int()
      .min(0)
      .default(100)
      .describe('Invalid frames one connection may send before it is closed. Default 100.'),
    max_rejected_streams: z
      .number()
      .int()
      .min(0)
      .default(100)
      .describe('Streams refused on one connection (over the stream limit) before it is closed. Default 100.'),
    max_settings: z
      .number()
      .int()
      .min(1)
      .default(32)
      .describe('Most settings in one SETTINGS frame; more close the connection (settings flood). Default 32.'),
    idle_timeout: duration(
      'An HTTP/2 connection with no frames either way for this long is closed. Default "5m".',
    ).prefault('5m'),
  })
  .describe('HTTP/2 on this listener, with its limits.')

const redirectHttps = z
  .strictObject({
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(443)
      .describe('Port of the HTTPS listener to send clients to. Default 443.'),
    status: z
      .union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)])
      .default(308)
      .describe('Redirect status; 307 and 308 keep the method and body. Default 308.'),
  })
  .describe('Answer every request on this plain listener with a redirect to the same URL over HTTPS.')

const paths = z
  .strictObject({
    escaped_slashes: z
      .enum(['reject', 'keep', 'decode'])
      .default('reject')
      .describe(
        'What a path with an encoded slash or backslash (`%2F`, `%5C`) or a plain backslash gets: "reject" answers 400; "keep" leaves them as data, not separators (only for backends that never decode them, e.g. GitLab-style IDs); "decode" reads them all as `/` before dot segments are resolved, as the backend then receives it. Backends that decode them (WSGI, Go, Tomcat, PHP, IIS) would otherwise see `/x/..%2Fadmin` as `/admin` where routes saw something else. Default "reject".',
      ),
    parameters: z
      .enum(['strip', 'keep', 'reject'])
      .default('strip')
      .describe(
        'What `;` parameters in a path segment (`/a;jsessionid=1/b`, `/x/..;/admin`) get: "strip" removes them, for routes and the backend alike, as Tomcat and Jetty read them; "keep" leaves them as data (then `..;` is not a dot segment to routes, but is to a Java backend); "reject" answers 400. Default "strip".',
      ),
    case_insensitive: z
      .boolean()
      .default(false)
      .describe(
        'Path conditions and rewrites ignore ASCII case, so `/ADMIN` meets a condition on `/admin` (for backends on case-insensitive file systems). The backend receives the path in the case sent. Default false.',
      ),
  })
  .describe(
    'How request paths are normalised: routes match, and the backend receives, one normalised path (encoded unreserved characters decoded, other escapes in upper case, duplicate slashes merged, dot segments resolved, a fragment or bad escape refused with 400), so that route and backend read a path alike.',
  )

const limit = (text: string) => z.number().int().min(0).default(0).describe(text)

const connections = z
  .strictObject({
    max: limit(
      'Most client connections open at once on this listener, for the whole instance: each of W workers keeps its share, max / W (at least 1). 0: no limit. Default 0.',
    ),
    max_per_client: limit(
      "Most connections open at once from one client address (a trusted PROXY header's address when there is one). Each of W workers keeps its share, max_per_client / W (at least 1): the kernel spreads one client's connections over the workers, so the instance holds about this many. 0: no limit. Default 0.",
    ),
    new_per_second_per_client: limit(
      'Most new connections one client address may open per second, split between the workers like max_per_client. 0: no limit. Default 0.',
    ),
    group_rate: z
      .strictObject(
        rateFields(
          'New connections one client address may open per `per`, on average.',
          'Connections that may come at once beyond the steady rate. Default 1.',
        ),
      )
      .optional()
      .describe(
        'New connections per client address for every Portico instance on the same Redis (the top-level `redis` section), counted there (GCRA, as `store: redis` rate limits): each new connection waits one Redis round trip before a byte is read. While Redis cannot answer, connections are let in. Default: none.',
      ),
  })
  .describe(
    'Connection limits. A connection beyond one is closed as soon as it is accepted, before any TLS handshake; refusals are logged at most once per second per client. Behind a load balancer without the PROXY protocol every connection has its address: leave the per-client limits at 0 there.',
  )

/** One listener: where Portico accepts client connections. */
export const listenerSchema = z
  .strictObject({
    address: address.describe('host:port to accept client connections on, e.g. "127.0.0.1:8080" or "[::]:80".'),
    proxy_protocol: z
      .boolean()
      .default(false)
      .describe(
        'Every connection starts with a PROXY protocol v1 or v2 header (from a load balancer); its client address is believed only from trusted_proxies. Default false.',
      ),
    tls: listenerTlsSchema.optional(),
    connections: connections.prefault({}),
    clients: clientRulesSchema
      .optional()
      .describe(
        'Allow and deny lists checked when a connection is accepted: a refused client is disconnected before a byte is read (no TLS handshake, no answer). Default: every client.',
      ),
    http2: http2.prefault({}),
    redirect_https: redirectHttps.optional(),
    paths: paths.prefault({}),
    underscores_in_headers: z
      .boolean()
      .default(false)
      .describe(
        "Pass on request header fields whose names contain `_` (`X_Forwarded_For`). CGI, WSGI and PHP backends read `_` and `-` alike, so such a field could pose as one Portico writes or checks; by default they are dropped before the route's header rules and the backend, as nginx does with `underscores_in_headers off`. Default false.",
      ),
  })
  .superRefine((l, ctx) => {
    if (l.tls && l.redirect_https) {
      ctx.addIssue({
        code: 'custom',
        path: ['redirect_https'],
        message: 'a TLS listener cannot redirect to HTTPS; remove tls or redirect_https',
      })
    }
  })
  .describe('A listening address for client traffic.')

export type ListenerConfig = z.output<typeof listenerSchema>
export type Http2Config = ListenerConfig['http2']
export type PathsConfig = ListenerConfig['paths']
