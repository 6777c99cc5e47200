import { z } from 'zod'
import { backendTlsSchema } from '../../tls/schema.ts'
import { tokenName } from '../../values/schema-parts.ts'
import { duration } from '../../values/units.ts'
import { parseStoredHash } from './password.ts'

const storedHash = z.string().check((ctx) => {
  const parsed = parseStoredHash(ctx.value)
  if (typeof parsed === 'string') ctx.issues.push({ code: 'custom', message: parsed, input: ctx.value })
})

/** HTTP Basic authentication of a route's clients against a list of users. */
export const basicAuthSchema = z
  .strictObject({
    realm: z
      .string()
      .regex(/^[^"\\\r\n]*$/, 'a realm cannot hold `"`, `\\` or line breaks')
      .prefault('Restricted')
      .describe('The realm named in `WWW-Authenticate: Basic realm="…"`, which browsers show. Default "Restricted".'),
    users: z
      .record(z.string(), storedHash)
      .superRefine(
        (users, ctx) => {
          const names = Object.keys(users)
          if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one user' })
          for (const name of names) {
            if (/^[^:\r\n]+$/.test(name)) continue
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `a user name cannot be empty or hold ":" or line breaks, found "${name}"`,
            })
          }
        },
        // Also when a hash is wrong, so that one run reports every problem.
        { when: ({ value }) => typeof value === 'object' && value !== null },
      )
      .describe(
        'User names and their password hashes: scrypt hashes printed by `portico hash-password`, or bcrypt hashes ($2a$, $2b$, $2y$, as `htpasswd -B` writes them). Never plain passwords.',
      ),
    forward_authorization: z
      .boolean()
      .prefault(false)
      .describe('Whether the `Authorization` header goes on to the pool. Default false: it is removed once checked.'),
    user_header: tokenName
      .optional()
      .describe(
        'A request header that tells the pool which user signed in, e.g. "X-Auth-User". A header of that name from the client is always removed. Default: none.',
      ),
  })
  .describe(
    'HTTP Basic authentication (RFC 7617): a request without valid credentials gets 401 (`auth_required`) with `WWW-Authenticate: Basic realm="…"`.',
  )

/** Forward authentication: an auth service decides for each request. */
export const forwardAuthSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL of the auth service' })
      .describe(
        "The auth service's URL, asked with GET (the request's method, host, URI and client go in X-Forwarded-Method, X-Forwarded-Host, X-Forwarded-Uri, X-Forwarded-Proto and X-Forwarded-For).",
      ),
    timeout: duration(
      'How long the auth service has to answer; past it the client gets 504 (`auth_timeout`). Default "5s".',
    ).prefault('5s'),
    request_headers: z
      .array(tokenName)
      .optional()
      .describe(
        'The client\'s request headers sent on to the auth service, e.g. ["Authorization", "Cookie"]. Default: all of them except hop-by-hop ones and those of the body.',
      ),
    tls: backendTlsSchema
      .optional()
      .describe(
        "How Portico talks TLS to an https:// auth service: its CA, server name, a client certificate (mTLS). Default: the system CAs, the URL's host name.",
      ),
    response_headers: z
      .array(tokenName)
      .prefault([])
      .describe(
        'Headers of the auth service\'s 2xx answer copied onto the request the pool receives, e.g. ["X-Auth-User"]; any of these names the client sent is removed first. Default: none.',
      ),
  })
  .describe(
    "Forward authentication (as Traefik's ForwardAuth and nginx's auth_request): each request is first asked of an auth service. Its 2xx lets the request through; any other answer (401, 403, a redirect to a login page) goes back to the client as it came (`auth_denied`); an auth service that cannot be reached gets 502 (`auth_unavailable`).",
  )

/** A route's `auth`: Basic, forward, or both (Basic first). */
export const authSchema = z
  .strictObject({
    basic: basicAuthSchema.optional(),
    forward: forwardAuthSchema.optional(),
  })
  .refine((a) => a.basic !== undefined || a.forward !== undefined, 'give `basic`, `forward` or both')
  .describe('Authentication at the edge, checked after the rate limits and the client lists. Default: none.')

/** A route's `auth` field. */
export type AuthConfig = z.output<typeof authSchema>
export type BasicAuthConfig = z.output<typeof basicAuthSchema>
export type ForwardAuthConfig = z.output<typeof forwardAuthSchema>
