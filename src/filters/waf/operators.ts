import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { detectSqli } from './detect-sqli.ts'
import { detectXss } from './detect-xss.ts'
import { PhraseMatcher } from './pm.ts'
import { pcreToRegExp } from './regex.ts'

/** What an operator found: the matched fragment and, for `@rx`, its capture groups. */
export interface OperatorMatch {
  readonly fragment: string
  readonly groups?: readonly (string | undefined)[]
}

/** Expands `%{…}` macros in an operator argument, at evaluation time. */
export type Expand = (text: string) => string

/** A compiled operator: the match, or undefined when the value does not match. */
export type Operator = (value: string, expand: Expand, remoteAddr: string) => OperatorMatch | undefined

type OperatorFactory = (arg: string, rulesDir: string) => Operator

/** Wraps a factory whose argument may hold macros: fixed arguments compile once, others per call. */
function dynamic(make: (arg: string) => (value: string) => OperatorMatch | undefined): OperatorFactory {
  return (arg) => {
    if (!arg.includes('%{')) {
      const fixed = make(arg)
      return (value) => fixed(value)
    }
    // The argument depends on TX: a matcher is built on first use of each expansion.
    const cache = new Map<string, (value: string) => OperatorMatch | undefined>()
    return (value, expand) => {
      const text = expand(arg)
      let match = cache.get(text)
      if (!match) {
        match = make(text)
        if (cache.size < 64) cache.set(text, match)
      }
      return match(value)
    }
  }
}

const hit = (fragment: string): OperatorMatch => ({ fragment })
const toInt = (s: string): number => {
  const n = Number.parseInt(s, 10)
  return Number.isNaN(n) ? 0 : n
}
const numeric = (test: (a: number, b: number) => boolean): OperatorFactory =>
  dynamic((arg) => {
    const b = toInt(arg)
    return (value) => (test(toInt(value), b) ? hit(value) : undefined)
  })

function readPhrases(file: string, rulesDir: string): string[] {
  const text = readFileSync(join(rulesDir, file), 'latin1')
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

function byteRanges(arg: string): Uint8Array {
  const ok = new Uint8Array(256)
  for (const part of arg.split(',')) {
    const [a, b] = part.trim().split('-')
    const lo = toInt(a!)
    const hi = b === undefined ? lo : toInt(b)
    for (let i = lo; i <= hi && i < 256; i++) ok[i] = 1
  }
  return ok
}

function invalidUtf8(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x80) continue
    let extra: number
    if (c >= 0xc2 && c <= 0xdf) extra = 1
    else if (c >= 0xe0 && c <= 0xef) extra = 2
    else if (c >= 0xf0 && c <= 0xf4) extra = 3
    else return true
    for (let k = 1; k <= extra; k++) {
      const d = value.charCodeAt(i + k)
      if (Number.isNaN(d) || (d & 0xc0) !== 0x80) return true
    }
    i += extra
  }
  return false
}

function ipMatcher(arg: string): (addr: string) => boolean {
  const v4 = (a: string): number => a.split('.').reduce((n, p) => (n << 8) + toInt(p), 0) >>> 0
  const nets = arg.split(',').map((s) => {
    const [base, bits] = s.trim().split('/')
    const n = bits === undefined ? 32 : toInt(bits)
    const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0
    return { base: base!, v4: isIP(base!) === 4, net: isIP(base!) === 4 ? (v4(base!) & mask) >>> 0 : 0, mask }
  })
  return (addr) => {
    const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr
    const four = isIP(a) === 4
    const value = four ? v4(a) : 0
    return nets.some((n) => (four && n.v4 ? (value & n.mask) >>> 0 === n.net : a === n.base))
  }
}

/** Every operator the rule files use that Portico runs; a name missing here makes its rule unrunnable. */
export const operators: Record<string, OperatorFactory> = {
  rx: (arg) => {
    if (arg.includes('%{')) {
      // The pattern depends on TX: compiled on first use of each expansion.
      const cache = new Map<string, RegExp>()
      return (value, expand) => {
        const p = expand(arg)
        let re = cache.get(p)
        if (!re) {
          re = pcreToRegExp(p)
          if (cache.size < 64) cache.set(p, re)
        }
        const m = re.exec(value)
        return m ? { fragment: m[0], groups: m } : undefined
      }
    }
    const re = pcreToRegExp(arg)
    return (value) => {
      const m = re.exec(value)
      return m ? { fragment: m[0], groups: m } : undefined
    }
  },
  pm: (arg) => {
    const pm = new PhraseMatcher(arg.split(/\s+/))
    return (value) => {
      const f = pm.find(value)
      return f === undefined ? undefined : hit(f)
    }
  },
  pmfromfile: (arg, dir) => {
    const pm = new PhraseMatcher(arg.split(/\s+/).flatMap((f) => readPhrases(f, dir)))
    return (value) => {
      const f = pm.find(value)
      return f === undefined ? undefined : hit(f)
    }
  },
  streq: dynamic((arg) => (value) => (value === arg ? hit(value) : undefined)),
  contains: dynamic((arg) => (value) => (value.includes(arg) ? hit(arg) : undefined)),
  containsword: dynamic((arg) => {
    const re = new RegExp(`(?:^|\\W)${arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\W|$)`)
    return (value) => (re.test(value) ? hit(arg) : undefined)
  }),
  beginswith: dynamic((arg) => (value) => (value.startsWith(arg) ? hit(arg) : undefined)),
  endswith: dynamic((arg) => (value) => (value.endsWith(arg) ? hit(arg) : undefined)),
  within: dynamic((arg) => (value) => (arg.includes(value) ? hit(value) : undefined)),
  eq: numeric((a, b) => a === b),
  ge: numeric((a, b) => a >= b),
  gt: numeric((a, b) => a > b),
  le: numeric((a, b) => a <= b),
  lt: numeric((a, b) => a < b),
  validatebyterange: (arg) => {
    const ok = byteRanges(arg)
    return (value) => {
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i) & 0xff
        if (!ok[c]) return hit(value[i]!)
      }
      return undefined
    }
  },
  validateurlencoding: () => (value) => {
    for (let i = value.indexOf('%'); i !== -1; i = value.indexOf('%', i + 1)) {
      if (!/^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) return hit(value.slice(i, i + 3))
    }
    return undefined
  },
  validateutf8encoding: () => (value) => (invalidUtf8(value) ? hit(value) : undefined),
  detectsqli: () => (value) => {
    const f = detectSqli(value)
    return f === undefined ? undefined : hit(f)
  },
  detectxss: () => (value) => {
    const f = detectXss(value)
    return f === undefined ? undefined : hit(f)
  },
  ipmatch: (arg) => {
    const match = ipMatcher(arg)
    return (value) => (match(value) ? hit(value) : undefined)
  },
  unconditionalmatch: () => (value) => hit(value),
  nomatch: () => () => undefined,
}
