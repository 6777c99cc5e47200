/**
 * The units of src/ (a folder at its top, or a file there), from the front door down to the
 * leaves: a unit imports only units below it (test/architecture/imports.test.ts). Every unit has
 * its place here, and the chart under "Layers" in docs/ARCHITECTURE.md draws the same order
 * (test/docs/architecture.test.ts).
 */
export const layers: readonly (readonly string[])[] = [
  ['cli.ts'],
  ['commands.ts'],
  ['hash-password.ts', 'explain-command.ts', 'cluster'],
  ['demo.ts'],
  ['discovery'],
  ['admin'],
  ['config'],
  ['portico.ts'],
  ['plan'],
  ['listen'],
  ['pipeline.ts'],
  ['route'],
  ['cache'],
  ['filters'],
  ['upstream'],
  ['answer'],
  ['exchange.ts'],
  ['tls', 'geo', 'shared-state', 'trace'],
  ['instance'],
  ['log', 'metrics'],
  ['engine'],
  ['http'],
  ['lazy-builtin.ts', 'process'],
  ['errors.ts'],
  ['values'],
]
