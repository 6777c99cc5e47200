// The child process that loadConfigApart forks: it checks one config and sends back the result.

import { loadConfig } from './load.ts'
import type { LoadReply, LoadRequest } from './load-apart.ts'
import { ConfigError } from './problem.ts'
import { configSchema } from './schema.ts'

process.once('message', (request: LoadRequest) => {
  let reply: LoadReply
  try {
    reply = { config: 'file' in request ? loadConfig(request.file) : configSchema.parse(request.config) }
  } catch (err) {
    reply = err instanceof ConfigError ? { problems: err.problems } : { failure: (err as Error).message }
  }
  process.send!(reply, () => process.disconnect())
})
