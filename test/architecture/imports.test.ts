import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { layers } from './layers.ts'

const src = fileURLToPath(new URL('../../src', import.meta.url))

type Edge = { from: string; to: string; file: string; target: string }

// `import … from`, `export … from`, `import('…')` and bare `import '…'` of a relative path.
// Type-only imports (`import type`, `export type`) are left out: TypeScript erases them, so they
// load nothing and order nothing at run time, and a lower unit naming the shape an upper one
// assembles (the whole `Config`, a `Plan`) is a description, not a dependency.
const importPattern =
  /^\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/gm

function unitOf(file: string): string {
  return relative(src, file).split(sep)[0]!
}

function valueImports(): Edge[] {
  const edges: Edge[] = []
  const files = readdirSync(src, { recursive: true, withFileTypes: true }).filter(
    (e) => e.isFile() && e.name.endsWith('.ts'),
  )
  for (const entry of files) {
    const file = resolve(entry.parentPath, entry.name)
    for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
      if (m[1]) continue
      const target = resolve(dirname(file), (m[2] ?? m[3] ?? m[4])!)
      const from = unitOf(file)
      const to = unitOf(target)
      if (from !== to) edges.push({ from, to, file: relative(src, file), target: relative(src, target) })
    }
  }
  return edges
}

const edges = valueImports()
const depth = new Map(layers.flatMap((units, i) => units.map((unit) => [unit, i] as const)))

test('the import scan sees the imports of src/', () => {
  assert.ok(edges.length > 100, `found ${edges.length} imports between units`)
  assert.ok(edges.some((e) => e.file === 'pipeline.ts' && e.to === 'upstream'))
})

test('every unit of src/ has its place in the layers', () => {
  const units = readdirSync(src).filter((name) => !name.startsWith('.'))
  assert.deepEqual(
    units.filter((unit) => !depth.has(unit)),
    [],
  )
})

test('every import between units of src/ points down the layers', () => {
  const up = edges
    .filter((e) => depth.has(e.from) && depth.has(e.to) && depth.get(e.to)! <= depth.get(e.from)!)
    .map((e) => `src/${e.file} imports src/${e.target}: ${e.from} is not above ${e.to}`)
  assert.deepEqual(up, [], `imports that go up:\n${up.join('\n')}`)
})

test('no units of src/ import each other in a loop', () => {
  const next = new Map<string, Set<string>>()
  for (const e of edges) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to))
  const loops: string[] = []
  for (const start of next.keys()) {
    const path = loopFrom(start, next)
    if (path) loops.push(path.join(' → '))
  }
  const named = loops.map((loop) => {
    const [a, b] = loop.split(' → ')
    const edge = edges.find((e) => e.from === a && e.to === b)!
    return `${loop} (first import: src/${edge.file} imports src/${edge.target})`
  })
  assert.deepEqual(named, [], `import loops:\n${named.join('\n')}`)
})

/** The shortest path of imports from `start` back to itself, if any. */
function loopFrom(start: string, next: Map<string, Set<string>>): string[] | undefined {
  const cameFrom = new Map<string, string>()
  const queue = [...(next.get(start) ?? [])]
  for (const unit of queue) cameFrom.set(unit, start)
  while (queue.length > 0) {
    const unit = queue.shift()!
    if (unit === start) {
      const path = [start]
      for (let at = cameFrom.get(start)!; at !== start; at = cameFrom.get(at)!) path.unshift(at)
      return [start, ...path]
    }
    for (const to of next.get(unit) ?? []) {
      if (!cameFrom.has(to)) {
        cameFrom.set(to, unit)
        queue.push(to)
      }
    }
  }
  return undefined
}
