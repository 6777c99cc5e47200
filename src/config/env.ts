import type { Node } from 'yaml'
import { type SourceProblem, walk } from './source.ts'

// `$${…}` (escape), `${NAME}`, `${NAME:-default}`, or a `${` that is none of these.
const reference = /\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|[^}]*\}?)/g
const wholeReference = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/
const number = /^-?\d+(\.\d+)?$/

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string value under `root` with the
 * environment's value; `$${` writes a literal `${`. Keys are left alone. A value that is one
 * reference alone and expands to a number becomes that number (`port: ${PORT}`). Returns a problem
 * for each unset variable without a default and each malformed `${`, at its position in `source`.
 */
export function substituteEnv(root: Node | null, source: string, env: NodeJS.ProcessEnv): SourceProblem[] {
  const problems: SourceProblem[] = []
  walk(root, {
    scalar(node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return
      const start = node.range?.[0] ?? 0
      const raw = source.slice(start, node.range?.[1] ?? start)
      let searchFrom = 0
      // Where the reference stands in the file: found in the raw text, which may be quoted.
      const offsetOf = (text: string) => {
        const i = raw.indexOf(text, searchFrom)
        if (i >= 0) searchFrom = i + text.length
        return start + Math.max(i, 0)
      }
      const value = node.value
      const replaced = value.replace(reference, (match, name?: string, fallback?: string) => {
        if (match === '$${') {
          offsetOf(match)
          return '${'
        }
        if (name === undefined) {
          problems.push({
            offset: offsetOf(match),
            path,
            message: `found "${match}", expected \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`,
          })
          return match
        }
        const offset = offsetOf(match)
        const set = env[name] ?? fallback
        if (set === undefined) {
          problems.push({
            offset,
            path,
            message: `environment variable ${name} is not set; set it, or write \${${name}:-default}`,
          })
          return match
        }
        return set
      })
      node.value = wholeReference.test(value) && number.test(replaced) ? Number(replaced) : replaced
    },
  })
  return problems
}
