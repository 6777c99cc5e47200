import { once } from 'node:events'
import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

/**
 * Listens with `server` (HTTPS, or HTTP/2 with or without TLS) on a free loopback port, each HTTP/2
 * session with a 4 MiB connection window, and closes it and every connection or session it holds
 * when the test ends. Resolves with its `host:port`.
 */
export async function listenClosing(
  t: TestContext,
  server: Http2Server | Http2SecureServer | HttpsServer,
): Promise<string> {
  const sessions = new Set<Http2Session>()
  server.on('session', (s: Http2Session) => {
    sessions.add(s)
    s.setLocalWindowSize(4 * 1024 * 1024)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const s of sessions) s.destroy()
    if ('closeAllConnections' in server) server.closeAllConnections()
    server.close()
  })
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}
