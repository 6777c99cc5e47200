import type { TLSSocket } from 'node:tls'

/** What a TLS connection negotiated, for the access log, headers and routing. */
export interface TlsFacts {
  /** `TLSv1.3` or `TLSv1.2`. */
  readonly version: string
  /** The OpenSSL cipher name, e.g. `TLS_AES_128_GCM_SHA256`. */
  readonly cipher: string
  /** The server name the client asked for (SNI); empty when it sent none. */
  readonly sni: string
  /** The ALPN protocol: `h2`, `http/1.1`, or empty when none was negotiated. */
  readonly alpn: string
  /** Subject of the client certificate, when one was sent and verified (`CN=client,O=Example`); else empty. */
  readonly clientSubject: string
  /** The X-Forwarded-Client-Cert element (Envoy's format) of the verified client certificate; empty without one. */
  readonly forwardedClientCert: string
}

const known = new WeakMap<object, TlsFacts>()

/**
 * The TLS facts of `socket`, read once per connection and then reused by every request on it.
 * For HTTP/2, `socket` is the session's socket proxy, which is also one per connection.
 */
export function tlsFacts(socket: TLSSocket): TlsFacts {
  let facts = known.get(socket)
  if (facts) return facts
  const cert = socket.authorized ? socket.getPeerCertificate() : undefined
  const subject = cert?.subject ? subjectText(cert.subject as unknown as Record<string, string | string[]>) : ''
  facts = {
    version: socket.getProtocol() ?? '',
    cipher: socket.getCipher()?.name ?? '',
    sni: (socket as TLSSocket & { servername?: string | false }).servername || '',
    alpn: socket.alpnProtocol || '',
    clientSubject: subject,
    forwardedClientCert:
      cert && subject
        ? `Hash=${cert.fingerprint256.replaceAll(':', '').toLowerCase()};Subject="${subject.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
        : '',
  }
  known.set(socket, facts)
  return facts
}

function subjectText(subject: Record<string, string | string[]>): string {
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(',')
}
