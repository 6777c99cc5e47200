import { z } from 'zod'
import { size } from '../../values/units.ts'

/** The codings Portico can apply, by their `Content-Encoding` names. */
export const codings = ['zstd', 'br', 'gzip'] as const

export type Coding = (typeof codings)[number]

/** Content types compressed by default: text, JSON, JavaScript, XML, SVG and WebAssembly. */
export const defaultTypes = [
  'text/*',
  'application/json',
  'application/*+json',
  'application/javascript',
  'application/x-javascript',
  'application/xml',
  'application/*+xml',
  'image/svg+xml',
  'application/wasm',
]

const levels = z
  .strictObject({
    gzip: z.number().int().min(1).max(9).default(5).describe('gzip level, 1 (fastest) to 9 (smallest). Default 5.'),
    br: z.number().int().min(0).max(11).default(4).describe('Brotli quality, 0 (fastest) to 11 (smallest). Default 4.'),
    zstd: z.number().int().min(1).max(22).default(3).describe('zstd level, 1 (fastest) to 22 (smallest). Default 3.'),
  })
  .describe('Compression level per coding: higher is smaller and slower.')

const requests = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Whether request bodies are decoded. Default true once this block is given.'),
    max_decoded_size: size(
      'Largest decoded request body; a larger one (a "zip bomb") gets 413. Default "10MiB".',
    ).prefault('10MiB'),
  })
  .describe(
    'Decodes request bodies sent with Content-Encoding gzip, br, zstd or deflate before they reach a backend that cannot decode them, whether or not responses are compressed. Off unless given.',
  )

/** A route's `compression:` block. */
export const compressionSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Whether responses are compressed (request decoding has its own switch). Default true once this block is given.',
      ),
    codings: z
      .array(z.enum(codings))
      .min(1)
      .default([...codings])
      .describe(
        'Codings Portico may apply, in order of preference: when the client rates several equally, the first wins. Default [zstd, br, gzip].',
      ),
    types: z
      .array(
        z
          .string()
          .regex(
            /^[\w.+-]+\/(\*|\*\+[\w.-]+|[\w.+-]+)$/,
            'expected a media type such as "text/*" or "application/json"',
          ),
      )
      .default(defaultTypes)
      .describe(
        'Content types to compress: exact ("application/json"), a whole type ("text/*") or a suffix ("application/*+json"). Default: text/*, JSON, JavaScript, XML, SVG and wasm.',
      ),
    min_size: size(
      'Responses whose Content-Length is below this are sent as they are; bodies of unknown length are compressed. Default "1KiB".',
    ).prefault('1KiB'),
    levels: levels.prefault({}),
    requests: requests.optional(),
  })
  .describe(
    'Compresses responses with the best coding the client accepts (Accept-Encoding). Never compresses bodies already encoded, `Cache-Control: no-transform`, 206, or HEAD; streamed bodies are flushed whenever the backend pauses, so server-sent events arrive at once. Off unless given.',
  )

export type CompressionConfig = z.output<typeof compressionSchema>
