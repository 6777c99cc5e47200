import { readFileSync } from 'node:fs'
import { isMap, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml'
import { type core, z } from 'zod'
import { type Config, configSchema } from './schema.ts'
import { suggest } from './suggest.ts'

/** One thing wrong with a config file, with where it is. */
export interface ConfigProblem {
  readonly file: string
  readonly line: number
  readonly column: number
  /** Key path such as `routes[0].pool`; empty for the whole document. */
  readonly path: string
  readonly message: string
}

/** A config that cannot be used. Its message lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[]

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** `file:line:column path: message`, the form editors and terminals make clickable. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column} ${p.path ? `${p.path}: ` : ''}${p.message}`
}

/** Reads and validates a config file; throws ConfigError naming every problem. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `cannot read config: ${reason}` }])
  }
  return parseConfig(text, file, env)
}

/** Parses and validates config text; `file` only names it in errors. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const at = (offset: number, path: string, message: string): ConfigProblem => {
    const { line, col } = lines.linePos(offset)
    return { file, line, column: col, path, message }
  }
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => at(e.pos[0], '', e.message.split('\n')[0]!)))
  }
  const envProblems = substituteEnv(doc.contents, env, (node, message) => at(node.range?.[0] ?? 0, '', message))
  if (envProblems.length > 0) throw new ConfigError(envProblems)

  const result = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true })
  if (result.success) return result.data
  const problems = result.error.issues
    .flatMap((issue) => describeIssue(issue))
    .map(({ path, message }) => {
      const offset = locate(doc.contents, path)
      return at(offset, formatPath(path), message)
    })
  throw new ConfigError(dedupe(problems))
}

/** Replaces `${NAME}` and `${NAME:-default}` in string scalars; `$${` keeps a literal `${`. */
function substituteEnv(
  root: Node | null,
  env: NodeJS.ProcessEnv,
  problem: (node: Node, message: string) => ConfigProblem,
): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (!root) return problems
  visit(root, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return
      const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.test(node.value)
      const replaced = node.value.replace(
        /\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
        (match, name: string, fallback?: string) => {
          if (match.startsWith('$$')) return match.slice(1)
          const value = env[name] ?? fallback
          if (value === undefined) {
            problems.push(
              problem(node, `environment variable ${name} is not set (write \${${name}:-default} for a default)`),
            )
            return ''
          }
          return value
        },
      )
      // A value that is one variable alone takes the type its text has: PORT=8080 gives a number.
      node.value = whole && /^-?\d+(\.\d+)?$/.test(replaced) ? Number(replaced) : replaced
    },
  })
  return problems
}

interface Described {
  readonly path: PropertyKey[]
  readonly message: string
}

/** Turns one zod issue into sentences that say what was found and what is expected. */
function describeIssue(issue: core.$ZodIssue): Described[] {
  const path = issue.path
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path)
      return issue.keys.map((key) => {
        const close = suggest(key, known)
        const hint = close ? `; did you mean "${close}"?` : `; expected one of ${quoteList(known)}`
        return { path: [...path, key], message: `unknown key "${key}"${hint}` }
      })
    }
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, message: `missing required key; expected ${issue.expected}` }]
      return [{ path, message: `expected ${issue.expected}, found ${describeValue(issue.input)}` }]
    case 'invalid_value': {
      const choices = issue.values.map(String)
      const found = describeValue(issue.input)
      const close = typeof issue.input === 'string' ? suggest(issue.input, choices) : undefined
      return [
        {
          path,
          message: `expected one of ${quoteList(choices)}, found ${found}${close ? `; did you mean "${close}"?` : ''}`,
        },
      ]
    }
    case 'invalid_union': {
      // Report the branch that got furthest: for an object given where a string or object fits, its own errors.
      const branches = issue.errors.map((branch) =>
        branch.flatMap((i) => describeIssue({ ...i, path: [...path, ...i.path] } as core.$ZodIssue)),
      )
      const deepest = branches
        .filter((b) => b.length > 0)
        .sort((a, b) => Math.max(...b.map((d) => d.path.length)) - Math.max(...a.map((d) => d.path.length)))[0]
      if (deepest && deepest.some((d) => d.path.length > path.length)) return deepest
      const types = issue.errors.flatMap((b) => b.filter((i) => i.code === 'invalid_type').map((i) => i.expected))
      if (types.length === issue.errors.length) {
        return [{ path, message: `expected ${types.join(' or ')}, found ${describeValue(issue.input)}` }]
      }
      return deepest ?? [{ path, message: 'invalid value' }]
    }
    case 'custom': {
      const params = issue.params as { choices?: string[]; found?: string } | undefined
      const close = params?.found && params.choices ? suggest(params.found, params.choices) : undefined
      return [{ path, message: close ? `${issue.message}; did you mean "${close}"?` : issue.message }]
    }
    case 'too_small':
      if (issue.origin === 'array') return [{ path, message: `expected at least ${issue.minimum} item(s)` }]
      return [
        {
          path,
          message: `expected ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}, found ${describeValue(issue.input)}`,
        },
      ]
    case 'too_big':
      return [
        {
          path,
          message: `expected ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}, found ${describeValue(issue.input)}`,
        },
      ]
    default:
      return [{ path, message: issue.message }]
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'string') return `"${value}"`
  return `${typeof value} ${String(value)}`
}

function quoteList(items: readonly string[]): string {
  return items.map((i) => `"${i}"`).join(', ')
}

/** The keys the schema allows for the object at `path`, for "did you mean". */
function knownKeys(path: PropertyKey[]): string[] {
  let schema: core.$ZodType | undefined = configSchema
  for (const key of path) {
    schema = schema && childSchema(schema, key)
  }
  const object = schema && objectIn(schema)
  return object ? Object.keys(object._zod.def.shape) : []
}

function unwrap(schema: core.$ZodType): core.$ZodType {
  let s = schema
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: core.$ZodType; in?: core.$ZodType; schema?: core.$ZodType }
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
  const object = objectIn(s)
  return object?._zod.def.shape[key as string]
}

/** The source offset of the node at `path`, or of the nearest ancestor that exists. */
function locate(root: Node | null, path: PropertyKey[]): number {
  let node: unknown = root
  let offset = root?.range?.[0] ?? 0
  for (const key of path) {
    if (!node || typeof node !== 'object' || !('items' in node)) break
    const items = (node as { items: unknown[] }).items
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key))
      if (!pair) break
      const keyNode = pair.key as Node
      offset = keyNode.range?.[0] ?? offset
      node = pair.value
      if (pair.value && (pair.value as Node).range && path[path.length - 1] !== key)
        offset = (pair.value as Node).range![0]
    } else if (typeof key === 'number' && items[key]) {
      node = items[key]
      offset = (node as Node).range?.[0] ?? offset
    } else break
  }
  return offset
}

function formatPath(path: PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('')
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const key = formatProblem(p)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** The JSON Schema of the config file, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' })
}
