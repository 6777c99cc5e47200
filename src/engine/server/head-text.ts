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

/** Response header fields checked and made into HTTP/1.1 text once, to go out with many responses. */
export interface RenderedFields {
  readonly text: string
  readonly date: boolean
  readonly connection: boolean
  readonly close: boolean
  readonly length: boolean
  readonly chunked: boolean
  readonly transferEncoding: boolean
}

/** Checks `fields` (flat `[name, value, …]`) as writeHead() would, and makes them into text once; throws as it would. */
export function renderFields(fields: readonly string[]): RenderedFields {
  const head = new HeadText('')
  for (let i = 0; i < fields.length; i += 2) head.add(fields[i]!, fields[i + 1]!)
  const { date, connection, close, length, chunked, transferEncoding } = head
  // Made flat: the text was built by appending, a chain of a few dozen pieces that a long-kept
  // head would otherwise hold until its first write flattens it.
  const text = Buffer.from(head.text, 'latin1').toString('latin1')
  return { text, date, connection, close, length, chunked, transferEncoding }
}

// What node's validateHeaderName and validateHeaderValue accept: a token, and no control character but tab.
const token = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/
const badValueChar = /[^\t\x20-\x7e\x80-\xff]/

// The lengths of the names HeadText looks at; a field of another length is only written.
const framingLengths = nameLengths(['date', 'connection', 'content-length', 'transfer-encoding'])

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

  /** A head that starts with `statusLine` and the fields of `rendered`. */
  static from(statusLine: string, rendered: RenderedFields): HeadText {
    const head = new HeadText(statusLine + rendered.text)
    head.date = rendered.date
    head.connection = rendered.connection
    head.close = rendered.close
    head.length = rendered.length
    head.chunked = rendered.chunked
    head.transferEncoding = rendered.transferEncoding
    return head
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

let dateText = ''
let dateUntil = 0

/** The Date header's value, made once a second. */
export function httpDate(): string {
  const now = Date.now()
  if (now >= dateUntil) {
    dateText = new Date(now).toUTCString()
    dateUntil = now - (now % 1000) + 1000
  }
  return dateText
}

/**
 * Refuses a field as node's validators do, with their errors; tested here first, since each call of
 * theirs allocates its arguments for the error's stack (`hideStackFrames`), and nearly every field passes.
 */
function checkField(name: string, value: string): void {
  if (!token.test(name)) validateHeaderName(name)
  if (value === undefined || badValueChar.test(value)) validateHeaderValue(name, value)
}
