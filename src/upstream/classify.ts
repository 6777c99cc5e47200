import { errors } from 'undici'
import { type FailureCode, ProxyError } from '../errors.ts'

/** Maps an error from a backend attempt to a catalogue code, by its `code` or undici class, never its message. */
export function classify(err: unknown): FailureCode {
  if (err instanceof ProxyError) return err.code
  // A response that breaks HTTP/1.1 (RFC 9112 §11.2); undici does not always give these a code.
  if (err instanceof errors.HTTPParserError) return 'backend_error'
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
      return code?.startsWith('HPE_') ? 'backend_error' : 'proxy_error'
  }
}
