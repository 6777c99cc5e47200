import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { fields } from '../../src/log/access.ts'
import type { TestPortico } from './portico.ts'
import { removeWhenDone } from './remove-dir.ts'

/** One JSON access log line: the exchange's fields (docs/logging.md) and pino's own. */
export type LogRecord = ReturnType<typeof fields> & {
  readonly level: number
  readonly time: string
  readonly pid: number
}

/** A path for an access log file in a new temporary directory, removed when the test ends. */
export function accessLogFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-log-'))
  removeWhenDone(t, dir)
  return join(dir, 'access.log')
}

/** Closes `proxy`, which flushes its access log, and returns the lines written to `file`. */
export async function readAccessLog(proxy: TestPortico, file: string): Promise<string[]> {
  await proxy.close(0)
  return readFileSync(file, 'utf8').split('\n').filter(Boolean)
}

/** Closes `proxy`, which flushes its JSON access log, and returns the records written to `file`. */
export async function readLogRecords(proxy: TestPortico, file: string): Promise<LogRecord[]> {
  return (await readAccessLog(proxy, file)).map((line) => JSON.parse(line) as LogRecord)
}
