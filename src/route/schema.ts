import { statSync } from 'node:fs'
import { z } from 'zod'
import { cidr } from '../config/common.ts'
import { duration, size } from '../config/units.ts'
import { regexNames } from './regex-names.ts'
import { templateNames, variables } from './template.ts'

/** A regular expression (JavaScript syntax), checked when the config is read. */
function regex(doc: string) {
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

const hostPattern = z
  .string()
  .regex(/^(\*\.)?[a-z0-9.-]+$/i, 'expected a host name such as "example.com" or "*.example.com"')

const pathText = z.string().startsWith('/', 'expected a path starting with "/"')

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

const tokenName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name such as "x-env"')
const countryCode = z.string().regex(/^[A-Za-z]{2}$/, 'expected a two-letter ISO 3166 country code such as "DE"')
const uaClass = z.enum(['bot', 'mobile'])
const uaCondition = z.union([
  uaClass.describe('A named class: "bot" (crawlers, monitors, scripts) or "mobile" (phones and tablets).'),
  z.strictObject({ regex: regex('Regular expression the User-Agent must match, case-insensitive.') }),
])

const matchSchema = z
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

const splitSchema = z
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
        max_age: duration('How long the client stays pinned. Default "1d".').prefault('1d'),
      })
      .optional()
      .describe('Pins each client to its pool with this cookie (set on the first answer). Default: no pinning.'),
  })
  .describe('Spread requests over several pools by weight (smooth weighted round robin, so shares are exact).')

const redirectSchema = z
  .strictObject({
    to: z.string().min(1).describe('The Location, with variables and captures, e.g. "https://{host}{request_uri}".'),
    status: z
      .union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)])
      .default(302)
      .describe('301, 302, 303, 307 or 308. Default 302.'),
  })
  .describe('Answer with a redirect.')

/** A fixed answer; the same shape serves `respond` on a route and `no_route`. */
function answerSchema(status: number, body: string) {
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

const directory = z.string().check((ctx) => {
  let ok = false
  try {
    ok = statSync(ctx.value).isDirectory()
  } catch {}
  if (!ok)
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `expected an existing directory, found "${ctx.value}"`,
    })
})

const staticSchema = z
  .strictObject({
    root: directory.describe('Directory whose files are served; a request path never leaves it.'),
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

const rewriteSchema = z
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

const headerValues = z.record(tokenName, z.string()).optional()
const headerEdits = z
  .strictObject({
    set: headerValues.describe('Headers to set, replacing any of the same name; values take variables and captures.'),
    add: headerValues.describe('Headers to add after any of the same name; values take variables and captures.'),
    remove: z.array(tokenName).optional().describe('Header names to remove.'),
  })
  .describe('Header edits, applied remove, then set, then add.')

const actions = ['pool', 'split', 'redirect', 'respond', 'static'] as const

/** One route: which requests it takes and what it does with them. */
export const routeSchema = z
  .strictObject({
    name: z.string().optional().describe('Name shown in logs and metrics. Default: "route" and its index.'),
    match: matchSchema.optional(),
    pool: z.string().optional().describe('Action: forward to this pool.'),
    split: splitSchema.optional(),
    redirect: redirectSchema.optional(),
    respond: answerSchema(200, '').optional().describe('Action: answer with a fixed status and body.'),
    static: staticSchema.optional(),
    rewrite: rewriteSchema.optional(),
    request_headers: headerEdits.optional().describe('Edits to the request headers sent to the pool.'),
    response_headers: headerEdits.optional().describe('Edits to the response headers sent to the client.'),
    max_body_bytes: size('Largest request body accepted; larger ones get 413. Default "100MiB".').prefault('100MiB'),
  })
  .superRefine((route, ctx) => {
    const given = actions.filter((a) => route[a] !== undefined)
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: given.length > 1 ? [given[1]!] : [],
        message:
          given.length === 0
            ? `a route needs one action: ${actions.join(', ')}`
            : `a route takes exactly one action, found ${given.join(' and ')}`,
      })
    }
    if (route.rewrite && !(route.pool || route.split || route.static)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rewrite'],
        message: 'rewrite applies only to pool, split and static routes',
      })
    }
    const edits = route.request_headers
    for (const name of [...Object.keys(edits?.set ?? {}), ...Object.keys(edits?.add ?? {}), ...(edits?.remove ?? [])]) {
      if (!writtenByPortico.has(name.toLowerCase())) continue
      ctx.addIssue({
        code: 'custom',
        path: ['request_headers'],
        message: `"${name}" is written by Portico itself (the Host sent is pools.NAME.host_header) and cannot be edited here`,
      })
    }
    checkTemplates(route, ctx)
  })
  .describe('A route. Routes are tried in file order; the first that matches takes the request.')

// Request headers Portico writes itself (proxy-headers.ts); the Host sent is pools.NAME.host_header.
const writtenByPortico = new Set([
  'host',
  'via',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-request-id',
  'connection',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'te',
  'keep-alive',
])

/** Every `{name}` in a template must be a variable or a capture of the route's host or path regex. */
function checkTemplates(route: z.output<typeof routeSchema>, ctx: z.RefinementCtx): void {
  const known = new Set<string>(Object.keys(variables))
  const host = route.match?.host
  if (host && typeof host === 'object' && 'regex' in host) for (const n of regexNames(host.regex, false)) known.add(n)
  const path = route.match?.path
  if (typeof path === 'object' && path.regex !== undefined) for (const n of regexNames(path.regex, true)) known.add(n)
  const texts: [PropertyKey[], string][] = []
  if (route.redirect) texts.push([['redirect', 'to'], route.redirect.to])
  if (route.respond) texts.push([['respond', 'body'], route.respond.body])
  for (const side of ['request_headers', 'response_headers'] as const) {
    for (const kind of ['set', 'add'] as const) {
      for (const [name, value] of Object.entries(route[side]?.[kind] ?? {})) texts.push([[side, kind, name], value])
    }
  }
  for (const [path, text] of texts) {
    for (const name of templateNames(text)) {
      if (known.has(name)) continue
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown variable "{${name}}"; expected one of ${[...known].map((k) => `{${k}}`).join(', ')}`,
        params: { choices: [...known], found: name },
      })
    }
  }
}

/** The answer when no route matches. */
export const noRouteSchema = answerSchema(404, 'Not Found\n').describe(
  'The answer when no route matches. Default 404 "Not Found".',
)

export type RouteConfig = z.output<typeof routeSchema>
export type MatchConfig = z.output<typeof matchSchema>
export type ValueCondition = z.output<typeof valueCondition>
export type AnswerConfig = z.output<ReturnType<typeof answerSchema>>

/** Adds an issue for every pool a route names that `pools` lacks. */
export function checkRoutePools(routes: readonly RouteConfig[], pools: readonly string[], ctx: z.RefinementCtx): void {
  const check = (name: string, path: PropertyKey[]) => {
    if (pools.includes(name)) return
    ctx.addIssue({
      code: 'custom',
      path,
      message: `unknown pool "${name}"; pools are ${pools.map((p) => `"${p}"`).join(', ') || 'none'}`,
      params: { choices: pools, found: name },
    })
  }
  routes.forEach((route, i) => {
    if (route.pool !== undefined) check(route.pool, ['routes', i, 'pool'])
    route.split?.pools.forEach((arm, j) => {
      check(arm.pool, ['routes', i, 'split', 'pools', j, 'pool'])
    })
  })
}
