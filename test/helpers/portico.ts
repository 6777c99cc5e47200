import type { TestContext } from 'node:test'
import { type Config, type ConfigInput, configSchema } from '../../src/config/schema.ts'
import type { EventLog } from '../../src/log/events.ts'
import { type Portico, startPortico as start } from '../../src/portico.ts'

/** Portico running in this process for one test, on a free port, with its access log off by default. */
export interface TestPortico extends Portico {
  /** The first listener's URL. */
  readonly url: string
}

/**
 * A validated config for a test, as a file would give it: `listeners` defaults to one on
 * 127.0.0.1:0, the access log to off; everything else comes from `config`. Also for `reload()`.
 */
export function testConfig(config: Partial<ConfigInput>): Config {
  return configSchema.parse({ listeners: [{ address: '127.0.0.1:0' }], access_log: { output: 'off' }, ...config })
}

/** Starts Portico in-process on `testConfig(config)`, telling `events` what it says; closed when the test ends. */
export async function startPortico(
  t: TestContext,
  config: Partial<ConfigInput>,
  events?: EventLog,
): Promise<TestPortico> {
  const portico = await start(testConfig(config), events)
  t.after(() => portico.close(0))
  return Object.assign(portico, { url: portico.urls[0]! })
}
