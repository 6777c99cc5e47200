import { type FailureCode, ProxyError } from '../errors.ts'

/** Maps an error from a backend attempt to a catalogue code, by its `code` or undici class, never its message. */
export function classify(err: unknown): FailureCode {
  if (err instanceof ProxyError) return err.code
  // A response that breaks HTTP/1.1 (RFC 9112 §11.2); undici does not always give these a code.
  if ((err as Error | undefined)?.name === 'HTTPParserError') return 'backend_error'
  const code = (err as { code?: string } | undefined)?.code
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'backend_refused'
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect_timeout'
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'backend_timeout'
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    // An HTTP/2 connection that ended (a TLS alert after the handshake, as TLS 1.3 sends when the
    // server refuses Portico's client certificate, or a GOAWAY) before the stream could open.
    case 'ERR_HTTP2_INVALID_SESSION':
    case 'ERR_HTTP2_GOAWAY_SESSION':
      return 'backend_reset'
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'client_aborted'
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'HPE_INVALID_CONSTANT':
    case 'UND_ERR_INFO':
      return 'backend_error'
    default:
      if (code === undefined) return 'proxy_error'
      if (code.startsWith('HPE_')) return 'backend_error'
      // A TLS handshake with the server failed (certificate not trusted, wrong name, alert): the
      // request never reached it.
      if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || certificateErrors.has(code))
        return 'backend_tls'
      return 'proxy_error'
  }
}

// OpenSSL verification results, as node reports them on a failed TLS connection.
const certificateErrors = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
])
