import { mayBeNamed, nameLengths } from '../../http/name-lengths.ts'

/**
 * Whether a request with these fields is one this server serves: it names its Host and has no
 * body (no Content-Length or Transfer-Encoding), no `Expect` and no `Upgrade`.
 */
export function servable(fields: readonly string[]): boolean {
  let host = false
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!
    if (!mayBeNamed(servingLengths, name)) continue
    switch (name.toLowerCase()) {
      case 'host':
        host = true
        break
      case 'expect':
      case 'upgrade':
      case 'content-length':
      case 'transfer-encoding':
        return false
    }
  }
  return host
}

// The lengths of the names servable() looks at; a field of another length is passed over unread.
const servingLengths = nameLengths(['host', 'expect', 'upgrade', 'content-length', 'transfer-encoding'])
