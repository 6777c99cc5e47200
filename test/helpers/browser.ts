import { existsSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { type Browser, chromium } from 'playwright-core'

/** Debian's chromium, which `.ci/run` installs. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Why a browser test cannot run here, or undefined when it can. */
export function noBrowser(): string | undefined {
  return existsSync(chromiumPath) ? undefined : `no chromium at ${chromiumPath} (.ci/run installs it)`
}

/** Starts headless chromium for one test, closed when the test ends. */
export async function startBrowser(t: TestContext): Promise<Browser> {
  // Tests often run as root in a container, where chromium's sandbox cannot start.
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
  t.after(() => browser.close())
  return browser
}
