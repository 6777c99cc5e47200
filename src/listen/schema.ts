import { z } from 'zod'
import { address } from '../config/common.ts'
import { duration, size } from '../config/units.ts'
import { listenerTlsSchema } from '../tls/schema.ts'

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
    http2: http2.prefault({}),
    redirect_https: redirectHttps.optional(),
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
