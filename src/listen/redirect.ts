import type { Duplex } from 'node:stream'
import { reply } from '../answer/respond.ts'
import type { Exchange } from '../exchange.ts'
import type { Plan } from '../plan/plan.ts'
import type { ListenerConfig } from './schema.ts'

type Redirect = NonNullable<ListenerConfig['redirect_https']>

/**
 * Answers an exchange on a plain listener with a redirect to the same host and target over HTTPS
 * on `redirect.port`, and logs it. For an upgrade request, `socket` is its raw connection, closed
 * once the answer is written.
 */
export function redirectToHttps(plan: Plan, x: Exchange, redirect: Redirect, socket?: Duplex): void {
  const port = redirect.port === 443 ? '' : `:${redirect.port}`
  const location = `https://${x.host}${port}${x.path}`
  x.status = redirect.status
  if (socket) {
    socket.end(
      `HTTP/1.1 ${redirect.status} Redirect\r\nlocation: ${location}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
    )
    plan.accessLog.write(x)
    return
  }
  x.res.once('close', () => plan.accessLog.write(x))
  reply(x, redirect.status, `Redirecting to ${location}\n`, { location })
}
