import type { Server as TlsServer } from 'node:tls'
import { type ClusterSessions, clusterSessions } from './cluster-sessions.ts'
import { SessionStore } from './session-store.ts'

/**
 * Keeps up to `max` TLS sessions of `server` by session id, each for `timeoutS` seconds, so that a
 * client resuming by session id rather than by ticket (TLS 1.2 clients that turn tickets off) skips
 * the full handshake. When full, the oldest session goes first. With several workers, every
 * session also goes to the primary under `listener` (the listener's address), and a session id
 * this worker does not hold is asked of it: such a client resumes whichever worker the kernel
 * hands its connection to, as a client with a ticket does.
 */
export function cacheSessions(
  server: TlsServer,
  max: number,
  timeoutS: number,
  listener: string,
  now = Date.now,
  cluster: ClusterSessions = clusterSessions,
): void {
  const sessions = new SessionStore<Buffer>()
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    // TLS 1.3 resumes by ticket only; its sessions would only push TLS 1.2 ones out.
    if (isTls13(data)) return done()
    const expires = now() + timeoutS * 1000
    sessions.put(id.toString('latin1'), data, expires, max)
    cluster.put(listener, id, data, expires, max)
    done()
  })
  server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
    const key = id.toString('latin1')
    const session = sessions.get(key, now())
    if (session !== undefined || !cluster.joined) return done(null, session?.data ?? null)
    cluster.get(listener, id, (shared) => {
      if (shared !== null) sessions.put(key, shared.data, shared.expires, max)
      done(null, shared?.data ?? null)
    })
  })
}

/**
 * Whether an encoded session (OpenSSL's SSL_SESSION: a DER SEQUENCE that opens with INTEGER 1,
 * then the protocol version as a two-byte INTEGER) is of TLS 1.3.
 */
function isTls13(data: Buffer): boolean {
  // The SEQUENCE's length takes one byte below 128, else 0x80 + the count of length bytes.
  const start = 2 + (data[1]! & 0x80 ? data[1]! & 0x7f : 0)
  return data[start + 3] === 0x02 && data[start + 4] === 0x02 && data.readUInt16BE(start + 5) === 0x0304
}
