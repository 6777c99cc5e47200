import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { arch, platform } from 'node:os'
import { join } from 'node:path'

const root = new URL('../..', import.meta.url).pathname
/** Where `npm run dist` puts the single executable for this machine. */
export const executablePath = join(root, 'dist', `portico-${platform()}-${arch()}`)

function newestChange(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  return newest
}

/**
 * The single executable, built first (as `npm run dist` does, less the TypeScript build it does not use) when it is
 * missing or older than a file of src/ or packaging/ or package.json, so that a test never runs yesterday's code.
 */
export function builtExecutable(): string {
  let built = 0
  try {
    built = statSync(executablePath).mtimeMs
  } catch {}
  const sources = Math.max(
    newestChange(join(root, 'src')),
    newestChange(join(root, 'packaging')),
    statSync(join(root, 'package.json')).mtimeMs,
  )
  if (built < sources) execFileSync(process.execPath, [join(root, 'packaging/sea/build.ts')], { stdio: 'pipe' })
  return executablePath
}
