import type { Duplex } from 'node:stream'
import { rawAnswer } from '../answer/raw-answer.ts'
import { reply } from '../answer/respond.ts'
import type { Exchange } from '../exchange.ts'
import type { Plan } from '../plan/plan.ts'
import type { ListenerConfig } from './schema.ts'

type Redirect = NonNullable<ListenerConfig['redirect_https']>

/**
 * Answers an exchange on a plain listener with a redirect to the same host and target over HTTPS
 * on `redirect.port`, and logs it. For an upgrade request, `socket` is its raw connection, closed
 * once the answer is written: node gives such a request no response, so the answer is raw
 * (raw-answer.ts), with the same Via and request id as every other.
 */
export function redirectToHttps(plan: Plan, x: Exchange, redirect: Redirect, socket?: Duplex): void {
  const port = redirect.port === 443 ? '' : `:${redirect.port}`
  const location = `https://${x.host}${port}${x.path}`
  x.status = redirect.status
  if (socket) {
    rawAnswer(socket, redirect.status, 'Redirect', ['location', location], '', x.id)
    plan.meter?.record(x)
    plan.accessLog.write(x)
    return
  }
  x.res.once('close', () => {
    plan.meter?.record(x)
    plan.accessLog.write(x)
  })
  reply(x, redirect.status, `Redirecting to ${location}\n`, { location })
}
