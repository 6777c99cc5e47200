/**
 * Reads SecRule-language files (the subset the OWASP Core Rule Set is written in) into directives.
 * A directive keeps its file and line, so that a rule Portico cannot run is named where it is.
 */

/** One directive as written: its name, its arguments (quotes removed) and where it stands. */
export interface Directive {
  readonly name: string
  readonly args: readonly string[]
  readonly file: string
  readonly line: number
}

/** One action of a rule's action list: `name` or `name:value`, the value unquoted. */
export interface ActionText {
  readonly name: string
  readonly value: string
}

/**
 * Splits a configuration file into directives: lines ending in a backslash continue on the next,
 * `#` starts a comment line, arguments are separated by spaces and may be double-quoted with `\"`
 * escapes inside.
 */
export function parseDirectives(text: string, file: string): Directive[] {
  const out: Directive[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!.replace(/\r$/, '')
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++
      line = line.slice(0, -1) + lines[i]!.replace(/\r$/, '')
    }
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const words = splitWords(trimmed)
    out.push({ name: words[0]!, args: words.slice(1), file, line: start + 1 })
  }
  return out
}

function splitWords(text: string): string[] {
  const words: string[] = []
  let i = 0
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++
    if (i >= text.length) break
    let word = ''
    if (text[i] === '"') {
      i++
      while (i < text.length && text[i] !== '"') {
        // Only an escaped quote loses its backslash: regexes keep their own escapes.
        if (text[i] === '\\' && text[i + 1] === '"') i++
        word += text[i]
        i++
      }
      i++
    } else {
      while (i < text.length && text[i] !== ' ' && text[i] !== '\t') word += text[i++]
    }
    words.push(word)
  }
  return words
}

/** Splits a rule's action list at commas outside single quotes; values lose their quotes. */
export function parseActions(text: string): ActionText[] {
  const out: ActionText[] = []
  let i = 0
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',' || text[i] === '\t') i++
    if (i >= text.length) break
    let name = ''
    while (i < text.length && text[i] !== ':' && text[i] !== ',') name += text[i++]
    let value = ''
    if (text[i] === ':') {
      i++
      while (text[i] === ' ') i++
      if (text[i] === "'") {
        i++
        while (i < text.length && text[i] !== "'") {
          if (text[i] === '\\' && text[i + 1] === "'") i++
          value += text[i++]
        }
        i++
      } else {
        while (i < text.length && text[i] !== ',') value += text[i++]
      }
    }
    out.push({ name: name.trim(), value: value.trim() })
  }
  return out
}

/** A variable of a rule's target list, e.g. `!REQUEST_COOKIES:/__utm/` or `&ARGS`. */
export interface VariableText {
  readonly collection: string
  /** The key as written, or undefined for the whole collection. */
  readonly key: string | undefined
  /** Whether the key is a regex (`/…/`). */
  readonly keyIsRegex: boolean
  readonly count: boolean
  readonly exclude: boolean
}

/** Splits a target list at `|` outside `/…/` keys. */
export function parseVariables(text: string): VariableText[] {
  const out: VariableText[] = []
  let i = 0
  while (i < text.length) {
    let exclude = false
    let count = false
    if (text[i] === '!') {
      exclude = true
      i++
    }
    if (text[i] === '&') {
      count = true
      i++
    }
    let collection = ''
    while (i < text.length && text[i] !== ':' && text[i] !== '|') collection += text[i++]
    let key: string | undefined
    let keyIsRegex = false
    if (text[i] === ':') {
      i++
      key = ''
      if (text[i] === '/' && collection.toUpperCase() !== 'XML') {
        keyIsRegex = true
        i++
        while (i < text.length && !(text[i] === '/' && (text[i + 1] === '|' || i + 1 === text.length))) {
          key += text[i++]
        }
        i++
      } else {
        while (i < text.length && text[i] !== '|') key += text[i++]
      }
    }
    out.push({ collection: collection.toUpperCase(), key, keyIsRegex, count, exclude })
    i++
  }
  return out
}
