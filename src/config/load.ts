import { readFileSync } from 'node:fs'
import { LineCounter, type Node, parseDocument } from 'yaml'
import { z } from 'zod'
import { describeIssue } from './describe-issue.ts'
import { substituteEnv } from './env.ts'
import { ConfigError } from './problem.ts'
import { type Config, configSchema } from './schema.ts'
import { type KeyPath, keyText, locate, type SourceProblem, walk } from './source.ts'

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
  const located = (problems: readonly SourceProblem[]) =>
    new ConfigError(
      [...problems]
        .sort((a, b) => a.offset - b.offset)
        .map(({ offset, path, message }) => {
          const { line, col } = lines.linePos(offset)
          return { file, line, column: col, path: formatPath(path), message }
        }),
    )
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false })
  // Later syntax errors mostly follow from the first; it alone says what to fix.
  const syntax = doc.errors[0]
  if (syntax) throw located([{ offset: syntax.pos[0], path: [], message: `YAML syntax error: ${syntax.message}` }])
  const sourceProblems = [...duplicateKeys(doc.contents, lines), ...substituteEnv(doc.contents, text, env)]
  if (sourceProblems.length > 0) throw located(sourceProblems)

  const result = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true })
  if (result.success) return result.data
  const problems = result.error.issues
    .flatMap(describeIssue)
    .map(({ path, at, part, message }) => ({ offset: locate(doc.contents, at, part), path, message }))
  throw located(dedupe(problems))
}

/** A problem for each key that appears twice in one map; YAML would silently keep the last. */
function duplicateKeys(root: Node | null, lines: LineCounter): SourceProblem[] {
  const problems: SourceProblem[] = []
  walk(root, {
    map(node, path) {
      const seen = new Map<string, number>()
      for (const pair of node.items) {
        const key = keyText(pair.key)
        const offset = (pair.key as Node | null)?.range?.[0] ?? 0
        const first = seen.get(key)
        if (first === undefined) seen.set(key, offset)
        else {
          const { line, col } = lines.linePos(first)
          problems.push({
            offset,
            path: [...path, key],
            message: `duplicate key "${key}"; it is already set at ${line}:${col}`,
          })
        }
      }
    },
  })
  return problems
}

function formatPath(path: KeyPath): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('')
}

function dedupe(problems: SourceProblem[]): SourceProblem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const key = `${p.offset} ${formatPath(p.path)} ${p.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** The JSON Schema of the config file, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' })
}
