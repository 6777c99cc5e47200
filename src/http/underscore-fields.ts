import type { IncomingHttpHeaders } from 'node:http'

/** The parts of a client request whose header fields are edited here: HTTP/1.1 or HTTP/2, node's or Portico's own. */
interface Fields {
  readonly rawHeaders: string[]
  readonly headers: IncomingHttpHeaders
}

/**
 * Removes the header fields whose names contain `_` from a request, in its raw list and its
 * header record, as nginx does with `underscores_in_headers off`: CGI, WSGI and PHP backends read
 * `X_Forwarded_For` as `X-Forwarded-For`, so such a field could pass for one Portico writes or
 * checks. Called once per request before routing; scans the names and allocates nothing when
 * there is none.
 */
export function dropUnderscoreFields(req: Fields): void {
  const raw = req.rawHeaders
  let i = 0
  while (i < raw.length && !raw[i]!.includes('_')) i += 2
  if (i === raw.length) return
  let kept = i
  for (; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.includes('_')) {
      delete req.headers[name.toLowerCase()]
      continue
    }
    raw[kept++] = name
    raw[kept++] = raw[i + 1]!
  }
  raw.length = kept
}
