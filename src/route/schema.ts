import { z } from 'zod'
import { cacheSchema } from '../cache/schema.ts'
import { authSchema } from '../filters/auth/schema.ts'
import { bufferingSchema } from '../filters/buffer/schema.ts'
import { compressionSchema } from '../filters/compress/schema.ts'
import { rateLimitsSchema } from '../filters/ratelimit/schema.ts'
import { wafRouteSchema } from '../filters/waf/schema.ts'
import { clientRulesSchema } from '../http/client-rules-schema.ts'
import { isWrittenByProxy } from '../http/proxy-headers.ts'
import { templateNames, variables } from '../http/template.ts'
import { poolName } from '../values/common.ts'
import { tokenName, upgradesSchema } from '../values/schema-parts.ts'
import { size } from '../values/units.ts'
import { answerSchema, redirectSchema, rewriteSchema, splitSchema, staticSchema } from './actions/schema.ts'
import { matchSchema } from './match/schema.ts'
import { regexNames } from './regex-names.ts'

const headerValues = z.record(tokenName, z.string()).optional()
const headerEdits = z
  .strictObject({
    set: headerValues.describe('Headers to set, replacing any of the same name; values take variables and captures.'),
    add: headerValues.describe('Headers to add after any of the same name; values take variables and captures.'),
    remove: z.array(tokenName).optional().describe('Header names to remove.'),
  })
  .describe('Header edits, applied remove, then set, then add.')

const securityHeaders = z
  .strictObject({
    content_type_options: z
      .boolean()
      .default(true)
      .describe('Send `X-Content-Type-Options: nosniff`: browsers keep to the declared Content-Type. Default true.'),
    frame_options: z
      .enum(['DENY', 'SAMEORIGIN'])
      .optional()
      .describe('Send `X-Frame-Options` with this value: whether other sites may frame the pages. Default: not sent.'),
    referrer_policy: z
      .enum([
        'no-referrer',
        'no-referrer-when-downgrade',
        'origin',
        'origin-when-cross-origin',
        'same-origin',
        'strict-origin',
        'strict-origin-when-cross-origin',
        'unsafe-url',
      ])
      .optional()
      .describe('Send `Referrer-Policy` with this value. Default: not sent.'),
    content_security_policy: z
      .string()
      .min(1)
      .optional()
      .describe('Send `Content-Security-Policy` with this value, e.g. "default-src \'self\'". Default: not sent.'),
  })
  .describe(
    "Security response headers on every answer of this route, replacing any of the same name the backend sent (HSTS is the TLS listener's `hsts`). Default: none.",
  )

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
    compression: compressionSchema.optional(),
    buffering: bufferingSchema.optional(),
    upgrades: upgradesSchema,
    hide_response_headers: z
      .array(tokenName)
      .default(['X-Powered-By'])
      .describe(
        'Response header names removed from every answer of this route, so that clients do not learn what runs behind it, e.g. ["Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"]. [] keeps them all. Default ["X-Powered-By"].',
      ),
    security_headers: securityHeaders.optional(),
    clients: clientRulesSchema
      .optional()
      .describe(
        "Allow and deny lists for this route, by the client's address (behind trusted proxies, the one they name) or country: a refused client gets 403 (`client_denied`) before any other phase runs. Default: every client.",
      ),
    cache: cacheSchema.optional(),
    waf: wafRouteSchema.optional(),
    rate_limits: rateLimitsSchema,
    auth: authSchema.optional(),
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
    if (route.cache && !(route.pool || route.split)) {
      ctx.addIssue({ code: 'custom', path: ['cache'], message: 'cache applies only to pool and split routes' })
    }
    const edits = route.request_headers
    for (const name of [...Object.keys(edits?.set ?? {}), ...Object.keys(edits?.add ?? {}), ...(edits?.remove ?? [])]) {
      if (!isWrittenByProxy(name.toLowerCase()) && name.toLowerCase() !== 'content-length') continue
      ctx.addIssue({
        code: 'custom',
        path: ['request_headers'],
        message: `"${name}" is written by Portico itself (the Host sent is pools.NAME.host_header) and cannot be edited here`,
      })
    }
    checkTemplates(route, ctx)
  })
  .describe('A route. Routes are tried in file order; the first that matches takes the request.')

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

/** Adds an issue for every pool a route names that `pools` lacks. */
export function checkRoutePools(routes: readonly RouteConfig[], pools: readonly string[], ctx: z.RefinementCtx): void {
  const check = (name: string, path: PropertyKey[]) => {
    // A name that cannot be a pool name is reported where the pool is defined, not here too.
    if (pools.includes(name) || !poolName.test(name)) return
    ctx.addIssue({
      code: 'custom',
      path,
      message: `unknown pool "${name}"; pools are ${pools.map((p) => `"${p}"`).join(', ') || 'none'}`,
      params: { choices: pools, found: name },
    })
  }
  // Runs on partly invalid configs too (to report every problem at once), so every level is checked.
  routes.forEach((route, i) => {
    if (typeof route?.pool === 'string') check(route.pool, ['routes', i, 'pool'])
    const arms = route?.split?.pools
    if (!Array.isArray(arms)) return
    arms.forEach((arm, j) => {
      if (typeof arm?.pool === 'string') check(arm.pool, ['routes', i, 'split', 'pools', j, 'pool'])
    })
  })
}
