import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const src = join(root, 'src')

// Node internals: undocumented modules, bindings and fields, and taking over a server's listeners.
// Each may change with any node release, so they stay where one folder's tests cover them.
const internals: readonly [name: string, pattern: RegExp][] = [
  ['process.binding', /\.binding\(/],
  ['internalBinding', /\binternalBinding\b/],
  ['an internal module (_http_common, …)', /['"]_[a-z_]+['"]/],
  ['_handle', /\b_handle\b/],
  ['_httpMessage', /\b_httpMessage\b/],
  ['_unrefTimer', /\b_unrefTimer\b/],
  [
    "a server's listeners taken over",
    /\.(removeAllListeners|listeners)\(\s*['"`]?(connection|secureConnection|request|upgrade|stream)\b/,
  ],
  ['process.dlopen', /\bdlopen\b/],
]

// Files outside src/engine/ allowed one internal, each with its reason.
const allowed: Record<string, { readonly internal: string; readonly reason: string }> = {
  'src/process/idle-memory.ts': {
    internal: 'process.dlopen',
    reason: "loads Portico's own malloc_trim addon (native/malloc-trim.c) to give memory back; not HTTP",
  },
}

/** The code of a TypeScript file without its comments. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\w])\/\/.*$/gm, '$1')
}

test('node internals appear only inside src/engine/', () => {
  const found: string[] = []
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const path = relative(root, join(entry.parentPath, entry.name))
    if (path.startsWith(join('src', 'engine'))) continue
    const text = code(readFileSync(join(root, path), 'utf8'))
    for (const [name, pattern] of internals) {
      if (pattern.test(text) && allowed[path]?.internal !== name) found.push(`${path}: ${name}`)
    }
  }
  assert.deepEqual(found, [])
})

test('outside src/engine/, code reaches the engine only through src/engine/index.ts', () => {
  const found: string[] = []
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const path = relative(root, join(entry.parentPath, entry.name))
    if (path.startsWith(join('src', 'engine'))) continue
    for (const [, target] of readFileSync(join(root, path), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const imported = relative(root, join(entry.parentPath, target!))
      if (imported.startsWith(join('src', 'engine')) && imported !== join('src', 'engine', 'index.ts')) {
        found.push(`${path} imports ${imported}`)
      }
    }
  }
  assert.deepEqual(found, [])
})

test('the check finds each internal it looks for, and not in comments', () => {
  const samples = [
    "process.binding('stream_wrap')",
    "internalBinding('http_parser')",
    "createRequire(import.meta.url)('_http_common')",
    'socket._handle.writev()',
    'socket._httpMessage',
    'socket._unrefTimer()',
    "server.removeAllListeners('connection')",
    'process.dlopen(addon, path)',
  ]
  for (const [i, [name, pattern]] of internals.entries()) {
    assert.ok(pattern.test(code(samples[i]!)), name)
    assert.ok(!pattern.test(code(`// ${samples[i]}\n/* ${samples[i]} */`)), `${name} in a comment`)
  }
})

test('each allowed internal is still there: the allow-list shrinks as code moves into the engine', () => {
  for (const [path, { internal }] of Object.entries(allowed)) {
    const pattern = new Map(internals).get(internal)
    assert.ok(pattern, internal)
    assert.ok(pattern.test(code(readFileSync(join(root, path), 'utf8'))), `${path} no longer uses ${internal}`)
  }
})
