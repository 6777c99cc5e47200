import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { layers } from '../architecture/layers.ts'

const page = readFileSync(new URL('../../docs/ARCHITECTURE.md', import.meta.url), 'utf8')
const layout = /## Layout\n\n```\n([\s\S]*?)```/.exec(page)?.[1] ?? ''
const src = fileURLToPath(new URL('../../src', import.meta.url))
const entries = readdirSync(src, { recursive: true, withFileTypes: true })

test('the layout in docs/ARCHITECTURE.md names every folder of src/ and every file at its top', () => {
  const folders = entries.filter((e) => e.isDirectory()).map((e) => `${e.name}/`)
  const topFiles = entries.filter((e) => e.isFile() && resolve(e.parentPath) === src).map((e) => e.name)
  assert.ok(topFiles.includes('pipeline.ts'))
  const missing = [...folders, ...topFiles].filter((name) => !layout.includes(name))
  assert.deepEqual(missing, [])
})

test('every file the layout in docs/ARCHITECTURE.md names exists in src/', () => {
  const files = new Set(entries.filter((e) => e.isFile()).map((e) => basename(e.name)))
  const named = [...layout.matchAll(/[\w-]+\.ts\b/g)].map((m) => m[0])
  assert.ok(named.length > 40, `found ${named.length} names`)
  assert.deepEqual(
    named.filter((name) => !files.has(name)),
    [],
  )
})

test('the layers chart in docs/ARCHITECTURE.md is the order the imports test holds src/ to', () => {
  const chart = /## Layers\n[\s\S]*?```\n([\s\S]*?)```/.exec(page)?.[1] ?? ''
  const drawn = chart.split('→').map((step) => step.split(',').map((unit) => unit.trim().replace(/\/$/, '')))
  assert.deepEqual(drawn, layers)
})
