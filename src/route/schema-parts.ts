import { z } from 'zod'

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
