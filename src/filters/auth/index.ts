import type { RoutePhaseFactory } from '../phase.ts'
import { BasicAuthPhase } from './basic-auth.ts'
import { ForwardAuthPhase } from './forward-auth.ts'
import type { AuthConfig } from './schema.ts'

/**
 * A route's `auth` (docs/authentication.md): Basic authentication, then forward authentication,
 * each a request phase that runs before the route's header edits, so that the headers they add or
 * remove are what those edits see. By default a route asks for nothing.
 */
export const auth: RoutePhaseFactory<AuthConfig | undefined> = {
  request: (a) => {
    if (!a) return undefined
    const basic = a.basic && new BasicAuthPhase(a.basic)
    const forward = a.forward && new ForwardAuthPhase(a.forward)
    if (basic && forward) {
      return {
        onRequest: (x) => {
          const v = basic.onRequest(x)
          if (v === undefined) return forward.onRequest(x)
          if (v instanceof Promise) return v.then((w) => (w === undefined ? forward.onRequest(x) : w))
          return v
        },
      }
    }
    return basic ?? forward
  },
}
