/**
 * The failure catalogue. Every way an exchange can fail has one code here; the code is also the
 * access log's `outcome`. `status` 0 means nobody is left to answer. `retry` says when another
 * attempt on a different server is safe: `always` (the request never reached a backend),
 * `idempotent` (only for idempotent requests with nothing sent to the client yet) or `never`.
 * `stale_connection` is a reset on a reused keep-alive connection before any response, when the
 * request was never written or is idempotent: it is sent again once, on a fresh connection.
 */
export const failures = {
  bad_request: { status: 400, source: 'client', retry: 'never', text: 'Bad Request' },
  bad_encoding: { status: 400, source: 'client', retry: 'never', text: 'Bad Request' },
  client_denied: { status: 403, source: 'client', retry: 'never', text: 'Forbidden' },
  auth_required: { status: 401, source: 'proxy', retry: 'never', text: 'Unauthorized' },
  auth_denied: { status: 403, source: 'proxy', retry: 'never', text: 'Forbidden' },
  auth_unavailable: { status: 502, source: 'proxy', retry: 'never', text: 'Bad Gateway' },
  auth_timeout: { status: 504, source: 'proxy', retry: 'never', text: 'Gateway Timeout' },
  waf_blocked: { status: 403, source: 'client', retry: 'never', text: 'Forbidden' },
  not_found: { status: 404, source: 'proxy', retry: 'never', text: 'Not Found' },
  method_not_allowed: { status: 405, source: 'client', retry: 'never', text: 'Method Not Allowed' },
  body_too_large: { status: 413, source: 'client', retry: 'never', text: 'Payload Too Large' },
  range_not_satisfiable: { status: 416, source: 'client', retry: 'never', text: 'Range Not Satisfiable' },
  uri_too_long: { status: 414, source: 'client', retry: 'never', text: 'URI Too Long' },
  rate_limited: { status: 429, source: 'proxy', retry: 'never', text: 'Too Many Requests' },
  header_too_large: { status: 431, source: 'client', retry: 'never', text: 'Request Header Fields Too Large' },
  client_timeout: { status: 408, source: 'client', retry: 'never', text: 'Request Timeout' },
  client_aborted: { status: 0, source: 'client', retry: 'never', text: '' },
  backend_refused: { status: 502, source: 'backend', retry: 'always', text: 'Bad Gateway' },
  stale_connection: { status: 502, source: 'backend', retry: 'always', text: 'Bad Gateway' },
  backend_reset: { status: 502, source: 'backend', retry: 'idempotent', text: 'Bad Gateway' },
  backend_error: { status: 502, source: 'backend', retry: 'never', text: 'Bad Gateway' },
  backend_tls: { status: 502, source: 'backend', retry: 'always', text: 'Bad Gateway' },
  backend_timeout: { status: 504, source: 'backend', retry: 'idempotent', text: 'Gateway Timeout' },
  connect_timeout: { status: 504, source: 'backend', retry: 'always', text: 'Gateway Timeout' },
  no_server: { status: 503, source: 'proxy', retry: 'never', text: 'Service Unavailable' },
  queue_full: { status: 503, source: 'proxy', retry: 'never', text: 'Service Unavailable' },
  queue_timeout: { status: 503, source: 'proxy', retry: 'never', text: 'Service Unavailable' },
  proxy_error: { status: 500, source: 'proxy', retry: 'never', text: 'Internal Server Error' },
} as const

export type FailureCode = keyof typeof failures

/** Every exchange ends with one of these in the access log. */
export type Outcome = 'ok' | FailureCode

/** A failure with a stable code from the catalogue; `cause` keeps the underlying error. */
export class ProxyError extends Error {
  readonly code: FailureCode

  constructor(code: FailureCode, cause?: unknown) {
    super(code, { cause })
    this.code = code
    this.name = 'ProxyError'
  }
}

/**
 * The listener for an `'error'` event whose failure shows elsewhere (the `'close'` that follows, a
 * response cut short): it keeps node from throwing the error, and does nothing else.
 */
export function ignore(): void {}
