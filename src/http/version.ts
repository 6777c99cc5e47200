import type { IncomingHttpHeaders } from 'node:http'

/**
 * Whether Portico serves a request of this version and framing: HTTP/1.1, HTTP/2 and HTTP/1.0. Not HTTP/0.9 (`GET /c` with no
 * version): it has no headers, hence no Host, and no status line to answer with. Not HTTP/1.0 with
 * Transfer-Encoding, whose framing RFC 9112 §6.1 says to treat as faulty: a front end and a backend
 * may disagree on where its body ends, and what follows may be a smuggled request.
 */
export function servedVersion(req: Versioned): boolean {
  if (req.httpVersionMajor === 2) return true
  if (req.httpVersionMajor !== 1) return false
  const minor = req.httpVersionMinor
  return minor === 1 || (minor === 0 && req.headers['transfer-encoding'] === undefined)
}

/** The parts of a client request that say its version and framing. */
interface Versioned {
  readonly httpVersionMajor: number
  readonly httpVersionMinor: number
  readonly headers: IncomingHttpHeaders
}
