import { mayBeNamed, nameLengths } from '../../http/name-lengths.ts'

/**
 * The body length of a request with these fields if it is one this server serves, else undefined:
 * it names its Host and has no `Expect`, no `Upgrade` and no Transfer-Encoding, and its body, if
 * any, has the length its one Content-Length says (0 without one). `fields` are those of a head
 * llhttp accepted in strict mode, so a Content-Length is one field of digits alone.
 */
export function servable(fields: readonly string[]): number | undefined {
  let host = false
  let length = 0
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!
    if (!mayBeNamed(servingLengths, name)) continue
    switch (name.toLowerCase()) {
      case 'host':
        host = true
        break
      case 'content-length': {
        const value = fields[i + 1]!
        // Longer lengths lose their last digits as numbers; node's server reads those bodies.
        if (value.length > maxLengthDigits || !digits.test(value)) return undefined
        length = Number(value)
        break
      }
      case 'expect':
      case 'upgrade':
      case 'transfer-encoding':
        return undefined
    }
  }
  return host ? length : undefined
}

// The lengths of the names servable() looks at; a field of another length is passed over unread.
const servingLengths = nameLengths(['host', 'expect', 'upgrade', 'content-length', 'transfer-encoding'])

const digits = /^[0-9]+$/

// Every number of up to 15 digits is exact as a double (Number.MAX_SAFE_INTEGER has 16).
const maxLengthDigits = 15
