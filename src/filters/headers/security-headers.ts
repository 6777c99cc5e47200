import type { Exchange } from '../../exchange.ts'
import { dropHeaders } from '../../http/drop-headers.ts'
import type { RouteConfig } from '../../route/schema.ts'
import type { ResponsePhase, RoutePhaseFactory } from '../phase.ts'

/** Sets fixed fields on a response head, replacing any of the same name. */
class SecurityHeaders implements ResponsePhase {
  readonly #fields: readonly (readonly [string, string])[]
  readonly #names: ReadonlySet<string>

  constructor(fields: readonly (readonly [string, string])[]) {
    this.#fields = fields
    this.#names = new Set(fields.map(([name]) => name.toLowerCase()))
  }

  onResponse(_x: Exchange, _status: number, headers: string[]): undefined {
    dropHeaders(headers, this.#names)
    for (const [name, value] of this.#fields) headers.push(name, value)
    return undefined
  }
}

/** A route's `security_headers` block. */
export type SecurityHeadersConfig = NonNullable<RouteConfig['security_headers']>

function fields(config: SecurityHeadersConfig): [string, string][] {
  const out: [string, string][] = []
  if (config.content_type_options) out.push(['X-Content-Type-Options', 'nosniff'])
  if (config.frame_options) out.push(['X-Frame-Options', config.frame_options])
  if (config.referrer_policy) out.push(['Referrer-Policy', config.referrer_policy])
  if (config.content_security_policy) out.push(['Content-Security-Policy', config.content_security_policy])
  return out
}

/**
 * `security_headers`: `X-Content-Type-Options`, `X-Frame-Options`, `Referrer-Policy` and
 * `Content-Security-Policy` on every answer of the route, replacing the backend's. By default a
 * route sends none of them.
 */
export const securityHeaders: RoutePhaseFactory<SecurityHeadersConfig | undefined> = {
  response: (config) => {
    const list = config ? fields(config) : []
    return list.length > 0 ? new SecurityHeaders(list) : undefined
  },
}
