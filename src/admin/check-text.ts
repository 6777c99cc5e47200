import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfigApart } from '../config/load-apart.ts'
import { ConfigError } from '../config/problem.ts'
import type { Config } from '../config/schema.ts'

/**
 * Checks a config given as YAML (or JSON) text, as a file would be, in a child process; errors
 * name it `body` instead of a file. Relative paths in it are taken from the current directory.
 */
export async function checkConfigText(text: string): Promise<Config> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-validate-'))
  const file = join(dir, 'body.yaml')
  try {
    writeFileSync(file, text)
    return await loadConfigApart({ file })
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.problems.map((p) => ({ ...p, file: 'body' })))
    throw err
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
