import { validateHeaderName, validateHeaderValue } from 'node:http'
import { mayBeNamed, nameLengths } from '../../http/name-lengths.ts'

/** A response head's fields, flat `[name, value, …]` or as a record (an array value for a repeated field). */
export type Fields = readonly string[] | Readonly<Record<string, string | number | readonly string[]>>

/**
 * The head's text from `statusLine` and `fields`, with what they say of framing. Throws node's own
 * error (`ERR_INVALID_HTTP_TOKEN`, `ERR_INVALID_CHAR`, `ERR_HTTP_INVALID_HEADER_VALUE`) for the first
 * field node's `validateHeaderName` or `validateHeaderValue` refuses.
 */
export function headText(statusLine: string, fields: Fields | undefined): HeadText {
  const head = new HeadText(statusLine)
  addFields(head, fields)
  return head
}

function addFields(head: HeadText, fields: Fields | undefined): void {
  if (Array.isArray(fields)) {
    for (let i = 0; i < fields.length; i += 2) head.add(fields[i]!, fields[i + 1]!)
  } else if (fields !== undefined) {
    for (const name in fields) {
      const value = (fields as Record<string, string | number | readonly string[]>)[name]!
      if (typeof value === 'object') for (const v of value) head.add(name, v)
      else head.add(name, String(value))
    }
  }
}

// The lengths of the names HeadText looks at; a field of another length is only written.
const framingLengths = nameLengths(['date', 'connection', 'content-length', 'transfer-encoding'])

// What node's validateHeaderName and validateHeaderValue accept: a token, and no control character but tab.
const token = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/
const badValueChar = /[^\t\x20-\x7e\x80-\xff]/

/** A response head's lines as they are added, checked as node checks them, and what they say of framing. */
export class HeadText {
  text: string
  date = false
  connection = false
  close = false
  length = false
  chunked = false
  transferEncoding = false

  constructor(statusLine: string) {
    this.text = statusLine
  }

  add(name: string, value: string): void {
    checkField(name, value)
    this.text += `${name}: ${value}\r\n`
    if (!mayBeNamed(framingLengths, name)) return
    switch (name.toLowerCase()) {
      case 'date':
        this.date = true
        break
      case 'connection':
        this.connection = true
        if (/(?:^|\W)close(?:$|\W)/i.test(value)) this.close = true
        break
      case 'content-length':
        this.length = true
        break
      case 'transfer-encoding':
        this.transferEncoding = true
        if (/(?:^|\W)chunked\s*$/i.test(value)) this.chunked = true
        break
    }
  }
}

/**
 * Refuses a field as node's validators do, with their errors; tested here first, since each call of
 * theirs allocates its arguments for the error's stack (`hideStackFrames`), and nearly every field passes.
 */
function checkField(name: string, value: string): void {
  if (!token.test(name)) validateHeaderName(name)
  if (value === undefined || badValueChar.test(value)) validateHeaderValue(name, value)
}
