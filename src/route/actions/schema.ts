import { z } from 'zod'
import { existingPath } from '../../values/common.ts'
import { pathText, regex } from '../../values/schema-parts.ts'
import { duration } from '../../values/units.ts'

export const splitSchema = z
  .strictObject({
    pools: z
      .array(
        z.strictObject({
          pool: z.string().describe('Name of a pool.'),
          weight: z
            .number()
            .int()
            .min(0)
            .max(1000)
            .describe('Relative share of new clients this pool gets (0 to 1000).'),
        }),
      )
      .min(1)
      .refine((arms) => arms.some((a) => a.weight > 0), 'expected at least one pool with a weight above 0')
      .describe('The pools and their shares, e.g. 90 to "stable" and 10 to "canary".'),
    cookie: z
      .strictObject({
        name: z
          .string()
          .regex(/^[\w.-]+$/, 'expected a cookie name such as "portico_split"')
          .describe('Cookie name.'),
        max_age: duration('How long the client stays pinned. Default "24h".').prefault('24h'),
      })
      .optional()
      .describe('Pins each client to its pool with this cookie (set on the first answer). Default: no pinning.'),
  })
  .describe('Spread requests over several pools by weight (smooth weighted round robin, so shares are exact).')

export const redirectSchema = z
  .strictObject({
    to: z.string().min(1).describe('The Location, with variables and captures, e.g. "https://{host}{request_uri}".'),
    status: z
      .union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)])
      .default(302)
      .describe('301, 302, 303, 307 or 308. Default 302.'),
  })
  .describe('Answer with a redirect.')

/** A fixed answer; the same shape serves `respond` on a route and `no_route`. */
export function answerSchema(status: number, body: string) {
  return z.strictObject({
    status: z.number().int().min(200).max(599).default(status).describe(`HTTP status. Default ${status}.`),
    body: z
      .string()
      .default(body)
      .describe(`Body text, with variables and captures. Default ${JSON.stringify(body)}.`),
    content_type: z
      .string()
      .default('text/plain; charset=utf-8')
      .describe('Content-Type of the body. Default "text/plain; charset=utf-8".'),
  })
}

export const staticSchema = z
  .strictObject({
    root: existingPath('directory').describe('Directory whose files are served; a request path never leaves it.'),
    index: z
      .array(z.string().regex(/^[^/\\]+$/, 'expected a file name'))
      .default(['index.html'])
      .describe('Files tried, in order, for a directory. Default ["index.html"].'),
    follow_symlinks: z
      .boolean()
      .default(false)
      .describe('Whether symbolic links under root are followed (even out of it). Default false: any link gives 404.'),
    dotfiles: z
      .boolean()
      .default(false)
      .describe('Whether names starting with "." (".git", ".env") are served. Default false: 404.'),
  })
  .describe('Serve files from a directory: MIME types, ETag, Last-Modified, conditional GETs, ranges, index files.')

export const rewriteSchema = z
  .strictObject({
    strip_prefix: pathText
      .optional()
      .describe('Removes this prefix (on whole segments) from the path: "/api/x" → "/x".'),
    regex: regex('Regular expression on the path without query; its first match is replaced.').optional(),
    replace: z.string().optional().describe('Replacement for regex: "$1" and "$<name>" insert its groups.'),
  })
  .refine((r) => (r.strip_prefix === undefined) !== (r.regex === undefined && r.replace === undefined), {
    message: 'expected either strip_prefix, or regex with replace',
  })
  .refine((r) => (r.regex === undefined) === (r.replace === undefined), { message: 'regex and replace go together' })
  .describe('Rewrites the path (the query is kept) before it goes to the pool or the static root.')

export type AnswerConfig = z.output<ReturnType<typeof answerSchema>>
