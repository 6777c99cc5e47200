import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

// Preloaded into every node process Portico starts (NODE_OPTIONS reaches the config check's child
// too): prints which process resolved a module of zod or yaml.
const hook = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from 'node:module'
  registerHooks({ resolve(spec, ctx, next) {
    const r = next(spec, ctx)
    if (/node_modules\\/(zod|yaml)\\//.test(r.url)) process.stderr.write('schema library loaded by ' + process.argv[1] + '\\n')
    return r
  } })
`)}`

test('the process that serves never loads the config schema libraries: a child process checks the config', async (t) => {
  const file = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: ['127.0.0.1:3000'] } },
    routes: [{ pool: 'web' }],
  })
  const portico = await spawnPortico(t, ['run', '-c', file], {
    listeners: 1,
    env: { NODE_OPTIONS: `--import=${hook}` },
  })
  const loaders = [...portico.output().matchAll(/schema library loaded by (\S+)/g)].map((m) => m[1])
  // The check ran, in its own process, and nothing else loaded them.
  assert.ok(loaders.length > 0, portico.output())
  assert.deepEqual(
    new Set(
      loaders.map((path) =>
        path!
          .replace(/\.[jt]s$/, '')
          .split('/')
          .pop(),
      ),
    ),
    new Set(['load-child']),
  )
  portico.child.kill('SIGTERM')
  assert.equal(await portico.exited, 0)
})
