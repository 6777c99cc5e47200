import { z } from 'zod'
import { duration } from './units.ts'

/** A regular expression (JavaScript syntax), checked when the config is read. */
export function regex(doc: string) {
  return z
    .string()
    .check((ctx) => {
      try {
        new RegExp(ctx.value)
      } catch (err) {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: `invalid regular expression: ${(err as Error).message}`,
        })
      }
    })
    .describe(doc)
}

/** A path as requests carry it: starting with "/". */
export const pathText = z.string().startsWith('/', 'expected a path starting with "/"')

/** A header name (an RFC 9110 token). */
export const tokenName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name such as "x-env"')

/** The protocols a route lets a client switch to with `Upgrade` (RFC 9110 §7.8). */
export const upgradesSchema = z
  .array(
    z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a protocol name such as "websocket"')
      .refine((name) => name.toLowerCase() !== 'h2c', {
        message: 'h2c is never passed to a backend: turn on listeners.http2 to serve HTTP/2 without TLS',
      }),
  )
  .default(['websocket'])
  .describe(
    'Protocols a client may switch to with an `Upgrade` request on this route, by name without case or version ("websocket"). The connection becomes a tunnel to the pool only once a server answers 101 with one of them; any other answer is relayed as an ordinary response and ends the connection. An `Upgrade` for a protocol not listed is dropped and the request served as an ordinary one; h2c never passes. Default ["websocket"].',
  )

/**
 * The fields of a GCRA rate, for a rate limit and a connection rate alike: `rate` per `per` on
 * average, and `burst` at once beyond it; `rateDoc` and `burstDoc` say what is counted.
 */
export function rateFields(rateDoc: string, burstDoc: string) {
  return {
    rate: z.number().positive().describe(rateDoc),
    per: duration('The period `rate` is counted over. Default "1s".').prefault('1s'),
    burst: z.number().int().min(1).prefault(1).describe(burstDoc),
  }
}
