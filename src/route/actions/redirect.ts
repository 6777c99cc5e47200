import { localReply } from '../../answer/respond.ts'
import type { Exchange } from '../../exchange.ts'
import { template } from '../../http/template.ts'
import type { RouteConfig } from '../schema.ts'
import type { Action } from './action.ts'

/** Answers with a redirect to a Location made from variables and captures (`https://{host}{request_uri}`). */
export function redirect(config: NonNullable<RouteConfig['redirect']>): Action {
  const location = template(config.to)
  const status = config.status
  return {
    run(x: Exchange) {
      const to = location.render(x)
      localReply(
        x,
        status,
        ['location', to, 'content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store'],
        `Redirecting to ${to}\n`,
      )
      return undefined
    },
  }
}
