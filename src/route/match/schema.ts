import { z } from 'zod'
import { cidr } from '../../values/common.ts'
import { pathText, regex, tokenName } from '../../values/schema-parts.ts'

const hostPattern = z
  .string()
  .regex(/^(\*\.)?[a-z0-9.-]+$/i, 'expected a host name such as "example.com" or "*.example.com"')

const valueCondition = z
  .union([
    z.boolean(),
    z.string(),
    z.array(z.string()).min(1),
    z.strictObject({ regex: regex('Regular expression the value must match (unanchored unless it uses ^ and $).') }),
  ])
  .describe(
    'true: present; false: absent; "text": equal to text; ["a", "b"]: equal to one of them; {regex: "…"}: matches.',
  )

const countryCode = z.string().regex(/^[A-Za-z]{2}$/, 'expected a two-letter ISO 3166 country code such as "DE"')
const uaClass = z.enum(['bot', 'mobile'])
const uaCondition = z.union([
  uaClass.describe('A named class: "bot" (crawlers, monitors, scripts) or "mobile" (phones and tablets).'),
  z.strictObject({ regex: regex('Regular expression the User-Agent must match, case-insensitive.') }),
])

/** What a request must look like to take a route. */
export const matchSchema = z
  .strictObject({
    host: z
      .union([
        hostPattern,
        z.array(hostPattern).min(1),
        z.strictObject({
          regex: regex('Regular expression on the host name (lower case, without port); named groups become captures.'),
        }),
      ])
      .optional()
      .describe(
        'Host names this route answers: exact ("example.com"), wildcard ("*.example.com", any depth), a list, or {regex}. Default: any.',
      ),
    path: z
      .union([
        pathText.describe('A path prefix on whole segments ("/api" matches "/api" and "/api/x", not "/apix").'),
        z
          .strictObject({
            exact: pathText.optional().describe('The whole path, without query.'),
            prefix: pathText.optional().describe('A path prefix on whole segments.'),
            regex: regex(
              'Regular expression on the path without query; named and numbered groups become captures.',
            ).optional(),
          })
          .refine((p) => [p.exact, p.prefix, p.regex].filter((v) => v !== undefined).length === 1, {
            message: 'expected exactly one of exact, prefix, regex',
          }),
      ])
      .optional()
      .describe(
        'Path condition, tested on the normalised path (dot segments resolved, duplicate slashes merged, unreserved characters decoded). Default: any.',
      ),
    method: z
      .union([tokenName, z.array(tokenName).min(1)])
      .optional()
      .describe('Request method or list of methods ("GET", ["GET", "HEAD"]). Default: any.'),
    headers: z
      .record(tokenName, valueCondition)
      .optional()
      .describe('Request headers by name (case-insensitive) and the condition each must meet. Default: none.'),
    query: z
      .record(z.string().min(1), valueCondition)
      .optional()
      .describe(
        'Query arguments by name (the first occurrence, decoded) and the condition each must meet. Default: none.',
      ),
    cookies: z
      .record(z.string().min(1), valueCondition)
      .optional()
      .describe('Cookies by name and the condition each must meet. Default: none.'),
    user_agent: z
      .union([uaCondition, z.array(uaCondition).min(1)])
      .optional()
      .describe('User-Agent condition: "bot", "mobile", {regex}, or a list (any of them). Default: any.'),
    client: z
      .union([cidr, z.array(cidr).min(1)])
      .optional()
      .describe(
        'Client addresses (IPs or CIDRs, v4 and v6). The client is the socket peer, or the address a trusted proxy gives. Default: any.',
      ),
    country: z
      .union([countryCode, z.array(countryCode).min(1)])
      .optional()
      .describe('Client countries as ISO 3166 codes ("DE", ["FR", "BE"]), from the geo database. Default: any.'),
  })
  .describe('What a request must look like to take this route. Every given condition must hold.')

export type MatchConfig = z.output<typeof matchSchema>
export type ValueCondition = z.output<typeof valueCondition>
