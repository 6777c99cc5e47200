import { localReply } from '../../answer/respond.ts'
import type { Outcome } from '../../errors.ts'
import type { Exchange } from '../../exchange.ts'
import { template } from '../../http/template.ts'
import type { Action } from './action.ts'
import type { AnswerConfig } from './schema.ts'

/**
 * Answers with a fixed status and body (variables and captures allowed) and records `outcome`: "ok"
 * for a route's `respond`, "not_found" for the answer when no route matches.
 */
export function respond(config: AnswerConfig, outcome: Outcome = 'ok'): Action {
  const body = template(config.body)
  const { status, content_type } = config
  return {
    run(x: Exchange) {
      x.outcome = outcome
      localReply(x, status, ['content-type', content_type, 'cache-control', 'no-store'], body.render(x))
      return undefined
    },
  }
}
