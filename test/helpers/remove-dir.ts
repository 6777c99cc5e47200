import { rmSync } from 'node:fs'
import type { TestContext } from 'node:test'

/**
 * Removes `dir` once the test ends. A Portico still closing may write into it meanwhile, so the
 * removal retries, and a directory that stays is left behind rather than failing the hook: a
 * throwing `after` hook would skip the hooks after it, which close the servers, and the test
 * file would never exit.
 */
export function removeWhenDone(t: TestContext, dir: string): void {
  t.after(() => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
    } catch (err) {
      t.diagnostic(`${dir} left behind: ${(err as Error).message}`)
    }
  })
}
