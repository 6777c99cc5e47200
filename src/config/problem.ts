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
