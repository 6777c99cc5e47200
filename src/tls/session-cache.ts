import type { Server as TlsServer } from 'node:tls'

/**
 * Keeps up to `max` TLS sessions of `server` by session id, each for `timeoutS` seconds, so that a
 * client resuming by session id rather than by ticket (TLS 1.2 clients that turn tickets off) skips
 * the full handshake. When full, the oldest session goes first. The cache is this process's own:
 * with several workers such a client resumes when the kernel hands its connection to the worker
 * that made the session, and otherwise makes a full handshake. Tickets, which clients send by
 * default, resume on any worker.
 */
export function cacheSessions(server: TlsServer, max: number, timeoutS: number, now = Date.now): void {
  // Insertion order is age order: the first key is the oldest.
  const sessions = new Map<string, { readonly data: Buffer; readonly expires: number }>()
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    // TLS 1.3 resumes by ticket only; its sessions would only push TLS 1.2 ones out.
    if (isTls13(data)) return done()
    const key = id.toString('latin1')
    sessions.delete(key)
    if (sessions.size >= max) sessions.delete(sessions.keys().next().value!)
    sessions.set(key, { data, expires: now() + timeoutS * 1000 })
    done()
  })
  server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
    const key = id.toString('latin1')
    const session = sessions.get(key)
    if (session && session.expires <= now()) sessions.delete(key)
    done(null, session && session.expires > now() ? session.data : null)
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
