import { createHash } from 'node:crypto'
import { htmlEntityDecode } from './html-entities.ts'

/**
 * The rule language's transformations (`t:name`). Values are byte strings: one char per byte
 * (latin1), as ModSecurity sees them, so that decoding yields the same bytes it would.
 */
export type Transform = (value: string) => string

const hex = (c: string): number => Number.parseInt(c, 16)
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c)

/** Decodes `%XX` and `+` (urlDecode); invalid escapes stay as they are. */
export function urlDecode(v: string): string {
  if (!v.includes('%') && !v.includes('+')) return v
  let out = ''
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!
    if (c === '+') out += ' '
    else if (c === '%' && isHex(v[i + 1]) && isHex(v[i + 2])) {
      out += String.fromCharCode(hex(v.slice(i + 1, i + 3)))
      i += 2
    } else out += c
  }
  return out
}

/** urlDecode plus IIS `%uXXXX`, folded to the low byte as ModSecurity does for non-ASCII full-width forms. */
function urlDecodeUni(v: string): string {
  if (!v.includes('%') && !v.includes('+')) return v
  let out = ''
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!
    if (c === '+') out += ' '
    else if (c === '%' && (v[i + 1] === 'u' || v[i + 1] === 'U') && /^[0-9a-fA-F]{4}$/.test(v.slice(i + 2, i + 6))) {
      const code = hex(v.slice(i + 2, i + 6))
      // Full-width ASCII (U+FF01–U+FF5E) maps to its ASCII twin; others keep their low byte.
      out += String.fromCharCode(code >= 0xff01 && code <= 0xff5e ? code - 0xfee0 : code & 0xff)
      i += 5
    } else if (c === '%' && isHex(v[i + 1]) && isHex(v[i + 2])) {
      out += String.fromCharCode(hex(v.slice(i + 1, i + 3)))
      i += 2
    } else out += c
  }
  return out
}

/** Decodes JavaScript escapes: `\xHH`, `\uHHHH` (low byte), `\n`-style and octal. */
function jsDecode(v: string): string {
  if (!v.includes('\\')) return v
  let out = ''
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!
    if (c !== '\\' || i + 1 >= v.length) {
      out += c
      continue
    }
    const n = v[i + 1]!
    if ((n === 'u' || n === 'U') && /^[0-9a-fA-F]{4}$/.test(v.slice(i + 2, i + 6))) {
      const code = hex(v.slice(i + 2, i + 6))
      out += String.fromCharCode(code >= 0xff01 && code <= 0xff5e ? code - 0xfee0 : code & 0xff)
      i += 5
    } else if ((n === 'x' || n === 'X') && isHex(v[i + 2]) && isHex(v[i + 3])) {
      out += String.fromCharCode(hex(v.slice(i + 2, i + 4)))
      i += 3
    } else if (n >= '0' && n <= '7') {
      let j = i + 1
      let digits = ''
      while (j < v.length && digits.length < 3 && v[j]! >= '0' && v[j]! <= '7') digits += v[j++]
      out += String.fromCharCode(Number.parseInt(digits, 8) & 0xff)
      i = j - 1
    } else {
      const map: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }
      out += map[n] ?? n
      i++
    }
  }
  return out
}

/** Decodes CSS escapes: `\` followed by up to six hex digits (low byte), or the escaped char. */
function cssDecode(v: string): string {
  if (!v.includes('\\')) return v
  let out = ''
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!
    if (c !== '\\') {
      out += c
      continue
    }
    let j = i + 1
    let digits = ''
    while (j < v.length && digits.length < 6 && isHex(v[j])) digits += v[j++]
    if (digits.length > 0) {
      out += String.fromCharCode(hex(digits) & 0xff)
      if (v[j] === ' ') j++
      i = j - 1
    } else if (j < v.length) {
      if (v[j] !== '\n') out += v[j]
      i = j
    }
  }
  return out
}

/** Windows and POSIX command-line obfuscation removed, as ModSecurity's cmdLine does. */
function cmdLine(v: string): string {
  let out = ''
  let space = false
  for (const c of v) {
    if (c === '\\' || c === '"' || c === "'" || c === '^') continue
    if (c === ' ' || c === ',' || c === ';' || c === '\t' || c === '\r' || c === '\n') {
      if (!space && out.length > 0) {
        out += ' '
        space = true
      }
      continue
    }
    if ((c === '/' || c === '(') && out.endsWith(' ')) out = out.slice(0, -1)
    out += c.toLowerCase()
    space = false
  }
  return out
}

/** Resolves `.` and `..` segments and repeated slashes, keeping a trailing slash. */
function normalisePath(v: string): string {
  if (v === '') return v
  const absolute = v.startsWith('/')
  const trailing = v.endsWith('/') || v.endsWith('/.') || v.endsWith('/..')
  const parts: string[] = []
  for (const seg of v.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop()
      else if (!absolute) parts.push('..')
    } else parts.push(seg)
  }
  let out = (absolute ? '/' : '') + parts.join('/')
  if (trailing && !out.endsWith('/')) out += '/'
  return out
}

function base64Decode(v: string): string {
  const clean = v.replace(/[^A-Za-z0-9+/]/g, '')
  return Buffer.from(clean, 'base64').toString('latin1')
}

function hexDecode(v: string): string {
  let out = ''
  for (let i = 0; i + 1 < v.length; i += 2) out += String.fromCharCode(hex(v.slice(i, i + 2)) || 0)
  return out
}

/** Turns UTF-8 sequences into `%uHHHH`, as ModSecurity's utf8toUnicode does. */
function utf8toUnicode(v: string): string {
  if (!/[\x80-\xff]/.test(v)) return v
  const text = Buffer.from(v, 'latin1').toString('utf8')
  let out = ''
  for (const ch of text) {
    const code = ch.codePointAt(0)!
    out += code < 0x80 ? ch : `%u${code.toString(16).padStart(4, '0')}`
  }
  return out
}

function replaceComments(v: string): string {
  return v.replace(/\/\*[\s\S]*?(\*\/|$)/g, ' ')
}

function removeCommentsChar(v: string): string {
  return v.replace(/\/\*|\*\/|--|#/g, '')
}

function removeComments(v: string): string {
  return v.replace(/\/\*[\s\S]*?(\*\/|$)|<!--[\s\S]*?(-->|$)|--.*$|#.*$/gm, '')
}

function sqlHexDecode(v: string): string {
  return v.replace(/0x((?:[0-9a-fA-F]{2})+)/g, (_, h: string) => hexDecode(h))
}

// The CRS hashes each request's User-Agent (rule 901318): the same few agents come back.
const sha1s = new Map<string, string>()

function remembered(cache: Map<string, string>, v: string, make: () => string): string {
  let out = cache.get(v)
  if (out === undefined) {
    if (cache.size >= 1024) cache.clear()
    out = make()
    cache.set(v, out)
  }
  return out
}

/** Every transformation the rule files name; a name missing here makes its rule unrunnable. */
export const transforms: Record<string, Transform> = {
  lowercase: (v) => v.toLowerCase(),
  uppercase: (v) => v.toUpperCase(),
  urldecode: urlDecode,
  urldecodeuni: urlDecodeUni,
  htmlentitydecode: htmlEntityDecode,
  compresswhitespace: (v) => v.replace(/[\s\xa0]+/g, ' '),
  removewhitespace: (v) => v.replace(/[\s\xa0]+/g, ''),
  removenulls: (v) => v.replaceAll('\0', ''),
  replacenulls: (v) => v.replaceAll('\0', ' '),
  cmdline: cmdLine,
  normalisepath: normalisePath,
  normalizepath: normalisePath,
  normalisepathwin: (v) => normalisePath(v.replaceAll('\\', '/')),
  normalizepathwin: (v) => normalisePath(v.replaceAll('\\', '/')),
  base64decode: base64Decode,
  base64decodeext: base64Decode,
  hexdecode: hexDecode,
  hexencode: (v) => Buffer.from(v, 'latin1').toString('hex'),
  jsdecode: jsDecode,
  cssdecode: cssDecode,
  utf8tounicode: utf8toUnicode,
  length: (v) => String(v.length),
  sha1: (v) => remembered(sha1s, v, () => createHash('sha1').update(v, 'latin1').digest().toString('latin1')),
  md5: (v) => createHash('md5').update(v, 'latin1').digest().toString('latin1'),
  replacecomments: replaceComments,
  removecomments: removeComments,
  removecommentschar: removeCommentsChar,
  sqlhexdecode: sqlHexDecode,
  trim: (v) => v.trim(),
  trimleft: (v) => v.trimStart(),
  trimright: (v) => v.trimEnd(),
  escapeseqdecode: jsDecode,
}
