import { z } from 'zod'
import { size } from '../../values/units.ts'
import { defaultRulesDir } from './load.ts'
import { defaultFreeTextFields, freeTextRules } from './prose.ts'

/** The methods a route's firewall admits by default: today's APIs use PUT, PATCH and DELETE. */
export const defaultAllowedMethods = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']

/** A route's `waf` block: the OWASP Core Rule Set run on its requests. */
export const wafRouteSchema = z
  .strictObject({
    mode: z
      .enum(['off', 'detect_only', 'block'])
      .default('block')
      .describe(
        '"block": a request whose anomaly score reaches the threshold gets 403 (`waf_blocked`) with its request id; "detect_only": it is logged with the rules it matched and passes; "off": no inspection. Default "block".',
      ),
    paranoia_level: z
      .number()
      .int()
      .min(1)
      .max(4)
      .default(1)
      .describe(
        'CRS paranoia level 1–4: higher runs more rules and refuses more, including ordinary requests. Default 1.',
      ),
    inbound_threshold: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe(
        'Anomaly score at which a request is refused: a critical rule scores 5, an error 4, a warning 3, a notice 2. Default 5.',
      ),
    body_bytes: size(
      'How much of a request body is inspected (URL-encoded, JSON and multipart bodies become arguments). Default "128KiB".',
    ).prefault('128KiB'),
    allowed_methods: z
      .array(z.string().regex(/^[A-Z]+$/))
      .default(defaultAllowedMethods)
      .describe(
        'Request methods the rules admit (CRS tx.allowed_methods). Default GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE.',
      ),
    free_text_fields: z
      .array(z.string().regex(/^[^.:]+$/))
      .default(defaultFreeTextFields)
      .describe(
        `Argument names (a form or query field, or the last part of a JSON path) that carry prose: rules ${[...freeTextRules].join(', ')}, which take sentences such as "10% off; select items only" for shell or SQL, skip their values when they read as prose (no code punctuation). [] turns it off. Default ${defaultFreeTextFields.join(', ')}.`,
      ),
    exclude_rules: z
      .array(z.number().int().min(1))
      .default([])
      .describe(
        'Rule ids that never run on this route, for false positives a site meets, e.g. [942100]. Default none.',
      ),
    exclude_args: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Argument names no rule inspects (their names and values): query or form fields, or JSON fields as `json.path.to.field`, e.g. ["json.query", "json.markdown"] for GraphQL queries and markdown. Default none.',
      ),
    exclude_args_by_rule: z
      .record(z.string().regex(/^\d+$/), z.array(z.string().min(1)))
      .default({})
      .describe('Argument names one rule does not inspect, by rule id, e.g. {"942100": ["comment"]}. Default none.'),
  })
  .describe(
    'Application firewall: runs the OWASP Core Rule Set (request rules) on the request line, headers, cookies, query and the first `body_bytes` of the body, with anomaly scoring. Off unless given.',
  )

/** The top-level `waf` block: where the rule files are. */
export const wafGlobalSchema = z
  .strictObject({
    rules_dir: z
      .string()
      .default(defaultRulesDir)
      .describe(
        `Directory of the Core Rule Set's REQUEST-*.conf files and their .data files, loaded once per config load. Default "${defaultRulesDir}" (Debian's modsecurity-crs).`,
      ),
  })
  .describe('Settings of the application firewall shared by every route that has a `waf` block.')

export type WafRouteConfig = z.infer<typeof wafRouteSchema>
export type WafGlobalConfig = z.infer<typeof wafGlobalSchema>
