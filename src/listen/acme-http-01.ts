import { reply } from '../answer/respond.ts'
import type { Exchange } from '../exchange.ts'
import type { Plan } from '../plan/plan.ts'
import type { ChallengeBoard } from '../tls/acme/challenge-board.ts'

const prefix = '/.well-known/acme-challenge/'

/**
 * Answers an HTTP-01 validation (RFC 8555 §8.3) on a plain listener, before routes and redirects:
 * `GET /.well-known/acme-challenge/<token>` for a name under challenge gets 200 with the key
 * authorization, and is logged. Returns false, touching nothing, for every other request.
 */
export function answerHttp01(plan: Plan, x: Exchange, board: ChallengeBoard): boolean {
  if (!x.path.startsWith(prefix)) return false
  const answer = board.httpAnswer(x.host, x.path.slice(prefix.length))
  if (answer === undefined) return false
  x.res.once('close', () => plan.accessLog.write(x))
  reply(x, 200, answer)
  return true
}
