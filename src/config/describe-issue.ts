import type { core } from 'zod'
import { configSchema } from './schema.ts'
import type { KeyPath, Part } from './source.ts'
import { suggest } from './suggest.ts'

/** One zod issue in words: where it is and what was found and expected. */
export interface Described {
  /** The key path shown to the user: the parent, for a missing key. */
  readonly path: KeyPath
  /** The key path whose `part` the position points at. */
  readonly at: KeyPath
  readonly part: Part
  readonly message: string
}

/** Turns one zod issue into sentences that say what was found and what is expected. */
export function describeIssue(issue: core.$ZodIssue): Described[] {
  const path = issue.path
  const value = (message: string): Described[] => [{ path, at: path, part: 'value', message }]
  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownKeys(path, issue.keys)
    case 'invalid_type':
      if (issue.input === undefined) {
        const parent = path.slice(0, -1)
        const message = `missing required key "${String(path[path.length - 1])}"; expected ${typeName(issue.expected)}`
        return [{ path: parent, at: parent, part: 'key', message }]
      }
      return value(`expected ${typeName(issue.expected)}, found ${describeValue(issue.input)}`)
    case 'invalid_value': {
      const choices = issue.values.map(String)
      const close = typeof issue.input === 'string' ? suggest(issue.input, choices) : undefined
      const hint = close ? `; did you mean "${close}"?` : ''
      return value(`expected one of ${quoteList(choices)}, found ${describeValue(issue.input)}${hint}`)
    }
    case 'invalid_union':
      return describeUnion(issue)
    case 'invalid_key': {
      const message = `expected a name of letters, digits, "_", "." or "-", found "${String(path[path.length - 1])}"`
      return [{ path, at: path, part: 'key', message }]
    }
    case 'custom': {
      const params = issue.params as { choices?: string[]; found?: string } | undefined
      const close = params?.found && params.choices ? suggest(params.found, params.choices) : undefined
      return value(close ? `${issue.message}; did you mean "${close}"?` : issue.message)
    }
    case 'too_small':
      if (issue.origin === 'array') {
        const n = (issue.input as unknown[] | undefined)?.length ?? 0
        return value(
          `expected at least ${plural(Number(issue.minimum), 'item')}, found ${n === 0 ? 'an empty list' : plural(n, 'item')}`,
        )
      }
      return value(
        `expected ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}, found ${describeValue(issue.input)}`,
      )
    case 'too_big':
      return value(
        `expected ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}, found ${describeValue(issue.input)}`,
      )
    case 'invalid_format':
      return value(`${issue.message}, found ${describeValue(issue.input)}`)
    default:
      return value(issue.message)
  }
}

/** Each key `keys` names that the schema does not know at `path`, with the closest known one. */
function unknownKeys(path: KeyPath, keys: readonly string[]): Described[] {
  const known = knownKeys(path)
  return keys.map((key) => {
    const close = suggest(key, known)
    const hint = close ? `did you mean "${close}"?` : `expected one of ${quoteList(known)}`
    const keyPath = [...path, key]
    return { path: keyPath, at: keyPath, part: 'key', message: `unknown key "${key}"; ${hint}` }
  })
}

/** For a value that fits none of a union's branches: the branch that got furthest, or the types. */
function describeUnion(issue: core.$ZodIssueInvalidUnion): Described[] {
  const path = issue.path
  const branches = issue.errors.map((branch) =>
    branch.flatMap((i) => describeIssue({ ...i, path: [...path, ...i.path] } as core.$ZodIssue)),
  )
  // An object given where a string or an object fits: the object branch's own errors.
  const deepest = branches.filter((b) => b.length > 0).sort((a, b) => depth(b) - depth(a))[0]
  if (deepest && depth(deepest) > path.length) return deepest
  const types = issue.errors.flatMap((b) => b.filter((i) => i.code === 'invalid_type').map((i) => typeName(i.expected)))
  if (types.length === issue.errors.length) {
    return [
      { path, at: path, part: 'value', message: `expected ${types.join(' or ')}, found ${describeValue(issue.input)}` },
    ]
  }
  return deepest ?? [{ path, at: path, part: 'value', message: 'invalid value' }]
}

function depth(described: Described[]): number {
  return Math.max(...described.map((d) => d.path.length))
}

const typeNames: Record<string, string> = {
  array: 'a list',
  object: 'a map',
  record: 'a map',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
}

function typeName(expected: string): string {
  return typeNames[expected] ?? expected
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'string') return `"${value}"`
  return String(value)
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function quoteList(items: readonly string[]): string {
  return items.map((i) => `"${i}"`).join(', ')
}

/** The keys the schema allows for the object at `path`, for "did you mean". */
function knownKeys(path: KeyPath): string[] {
  let schema: core.$ZodType | undefined = configSchema
  for (const key of path) schema = schema && childSchema(schema, key)
  const object = schema && objectIn(schema)
  return object ? Object.keys(object._zod.def.shape) : []
}

function unwrap(schema: core.$ZodType): core.$ZodType {
  let s = schema
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: core.$ZodType; in?: core.$ZodType }
    if (def.innerType) s = def.innerType
    else if (def.type === 'pipe' && def.in) s = def.in
    else return s
  }
}

function objectIn(schema: core.$ZodType): core.$ZodObject | undefined {
  const s = unwrap(schema)
  if (s._zod.def.type === 'object') return s as core.$ZodObject
  if (s._zod.def.type === 'union') {
    for (const option of (s as core.$ZodUnion)._zod.def.options) {
      const o = objectIn(option)
      if (o) return o
    }
  }
  return undefined
}

function childSchema(schema: core.$ZodType, key: PropertyKey): core.$ZodType | undefined {
  const s = unwrap(schema)
  const def = s._zod.def
  if (def.type === 'array') return (s as core.$ZodArray)._zod.def.element
  if (def.type === 'record') return (s as core.$ZodRecord)._zod.def.valueType
  return objectIn(s)?._zod.def.shape[key as string]
}
