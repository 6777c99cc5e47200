import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startBackend } from '../helpers/backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname
// Node 24, the project's own; the system's older node, where the machine has one.
const node24 = dirname(process.execPath)
const olderNode = ['/usr/bin/node', '/usr/local/bin/node'].find((file) => existsSync(file) && file !== process.execPath)

test('npm pack gives a package whose portico command runs after npm install -g, with only the runtime dependencies', {
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-npm-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, PATH: `${node24}${delimiter}${process.env.PATH}` }
  // The build is `npm ci`'s; here only the package made of it is tested.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, env })
  const tarball = join(dir, readdirSync(dir).find((name) => name.endsWith('.tgz'))!)
  const prefix = join(dir, 'global')
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    env,
  })
  const installed = join(prefix, 'lib/node_modules/portico')
  const pkg = (await import(join(installed, 'package.json'), { with: { type: 'json' } })).default
  const modules = readdirSync(join(installed, 'node_modules'))
  for (const name of Object.keys(pkg.dependencies)) assert.ok(modules.includes(name.split('/')[0]!), name)
  for (const name of ['typescript', '@biomejs', 'esbuild', 'node', 'fastify']) assert.ok(!modules.includes(name), name)

  const portico = join(prefix, 'bin/portico')
  assert.equal((await run(portico, ['--version'], { env })).stdout, `portico ${pkg.version}\n`)
  const backend = await startBackend(t, 'a')
  const file = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  const serving = await spawnPortico(t, ['run', '-c', file], { executable: portico, env, listeners: 1 })
  assert.equal(await (await fetch(serving.urls[0]!)).text(), 'a')
  serving.child.kill('SIGTERM')
  assert.equal(await serving.exited, 0)

  if (!olderNode) return t.diagnostic('no older node on this machine: the version check was not tried')
  const older = { ...process.env, PATH: `${dirname(olderNode)}${delimiter}${process.env.PATH}` }
  const refused = await run(portico, ['--version'], { env: older }).then(
    () => assert.fail('the command ran on an older node'),
    (err: { code: number; stderr: string }) => err,
  )
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /^portico: needs Node\.js 24 or later, but the node on PATH is v\d+/)
})
