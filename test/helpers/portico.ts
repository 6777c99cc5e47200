import type { TestContext } from 'node:test'
import { type ConfigInput, configSchema } from '../../src/config/schema.ts'
import { type Portico, startPortico as start } from '../../src/portico.ts'

/** Portico running in this process for one test, on a free port, with its access log off by default. */
export interface TestPortico extends Portico {
  /** The first listener's URL. */
  readonly url: string
}

/**
 * Starts Portico in-process. `listeners` defaults to one on 127.0.0.1:0, the access log to off;
 * everything else comes from `config` and is validated as a file would be. Closed when the test ends.
 */
export async function startPortico(t: TestContext, config: Partial<ConfigInput>): Promise<TestPortico> {
  const input = {
    listeners: [{ address: '127.0.0.1:0' }],
    access_log: { output: 'off' },
    ...config,
  }
  const portico = await start(configSchema.parse(input))
  t.after(() => portico.close(0))
  return Object.assign(portico, { url: portico.urls[0]! })
}
