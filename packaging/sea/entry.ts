// The main script of the single executable that `npm run dist` builds: the `portico` command with node inside.
// packaging/sea/build.ts bundles it with src/ into one CommonJS file (node 24 runs no ES module as an executable's
// main) and gives it the node flags of src/cli.ts's shebang line. Files a clone keeps on disk (the malloc-trim
// addon, the geo database, package.json) travel as the executable's assets: the first process writes them once to a
// private directory, which the modules reach through the root that build.ts puts where src/ reads `import.meta.url`.
// The same executable runs every process: the primary, its cluster workers and the config checker it forks. It sets
// the environment of the shebang line too (malloc's settings).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { getAsset } from 'node:sea'
import { pathToFileURL } from 'node:url'
import { mallocTrim, reduceMemoryWhenIdle } from '../../src/process/idle-memory.ts'

declare global {
  /** The directory that stands for the project's root in the executable (a `file:` URL ending in a slash). */
  var __porticoRoot: string
}
/** The assets, by path under the project's root; set by build.ts. */
declare const __porticoAssets: readonly string[]
/** The environment the `portico` command's shebang line sets (malloc's settings), by name; set by build.ts. */
declare const __porticoEnv: Readonly<Record<string, string>>

// Inherited by the workers and the config checker, which then use the files the primary wrote.
const rootVariable = 'PORTICO_EXECUTABLE_ROOT'

/** Writes the assets to a new private directory, removed when this process exits, and returns it. */
function unpack(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-exe-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  for (const name of __porticoAssets) {
    const file = join(dir, name)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, new Uint8Array(getAsset(name)))
  }
  return dir
}

// malloc reads its settings from the environment as a process starts: without them, this process starts again
// (the same process, through execve) with them, before it has done anything. Workers and the checker inherit them.
const unset = Object.entries(__porticoEnv).filter(([name]) => process.env[name] === undefined)
if (unset.length > 0) {
  const env = { ...process.env, ...Object.fromEntries(unset) }
  process.execve?.(process.execPath, [process.argv[1]!, ...process.argv.slice(2)], env)
}

const root = process.env[rootVariable] ?? unpack()
process.env[rootVariable] = root
globalThis.__porticoRoot = pathToFileURL(`${root}/`).href

// The config checker is this executable forked with the checker module's path among its arguments.
const checker = join(root, 'src/config/load-child.ts')
if (process.argv.includes(checker)) {
  void import('../../src/config/load-child.ts')
} else {
  // As in src/cli.ts: node:http's lazy WebSocket exports stay lazy, and memory is given back when idle.
  const http = process.getBuiltinModule('node:http')
  for (const name of ['WebSocket', 'CloseEvent', 'MessageEvent'])
    Object.defineProperty(http, name, { enumerable: false })
  reduceMemoryWhenIdle({ trim: mallocTrim(join(root, 'dist/malloc-trim.node')) })
  void import('../../src/commands.ts').then(async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2))
  })
}
