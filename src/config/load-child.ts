// The child process that loadConfigApart forks: it checks one config and sends back the result.
// The schema and YAML modules load after the compile cache is on: a reload forks this child each
// time, and most of its time is compiling those modules (docs/PERFORMANCE.md).
import { enableCompileCache } from 'node:module'
import type { LoadReply, LoadRequest } from './load-apart.ts'

enableCompileCache()
const modules = Promise.all([import('./load.ts'), import('./problem.ts'), import('./schema.ts')])

// Listening before the modules load: the request may come first.
process.once('message', async (request: LoadRequest) => {
  const [{ loadConfig }, { ConfigError }, { configSchema }] = await modules
  let reply: LoadReply
  try {
    reply = { config: 'file' in request ? loadConfig(request.file) : configSchema.parse(request.config) }
  } catch (err) {
    reply = err instanceof ConfigError ? { problems: err.problems } : { failure: (err as Error).message }
  }
  process.send!(reply, () => process.disconnect())
})
