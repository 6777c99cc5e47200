import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const src = join(root, 'src')

// The sizes past which code stops reading at a glance. A file may pass one with its reason
// written in it, as a comment `size: <reason>`.
const most = { file: 300, class: 250, function: 60 } as const

// A declaration that opens a block on its line: a class, a function, a method, or an arrow
// function given a name. Biome's formatting closes each such block with a `}` at the indentation
// the declaration starts at, which is how its end is found.
const classStart = /^(\s*)(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(\w+)/
const functionStarts = [
  /^(\s*)(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(\w+)/,
  /^(\s*)(?:(?:static|async|get|set|private|public|protected|override|readonly)\s+)*(#?\w+)\s*(?:<[^>]*>)?\([^;]*\{$/,
  /^(\s*)(?:export\s+)?(?:(?:const|let|static|readonly|private)\s+)+(#?\w+)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:\([^)]*\)|\w+)(?:\s*:\s*[^=]+)?\s*=>\s*\{$/,
]
const keywords = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'else'])

type Block = { kind: 'class' | 'function'; name: string; line: number; lines: number }

/** The classes and functions of one file's text, each with its first line and its length in lines. */
function blocks(text: string): Block[] {
  const lines = text.split('\n')
  const found: Block[] = []
  for (const [i, line] of lines.entries()) {
    const klass = classStart.exec(line)
    const fn = klass ? undefined : functionStarts.map((p) => p.exec(line)).find((m) => m !== null)
    const match = klass ?? fn
    if (!match || keywords.has(match[2]!)) continue
    // A signature too long for one line ends on a line of its own: `) … {` at its indentation.
    const opens = /\{\s*$/.test(line)
      ? i
      : line.endsWith('(')
        ? lines.findIndex((l, j) => j > i && l.startsWith(`${match[1]})`) && /\{\s*$/.test(l))
        : -1
    if (opens === -1) continue
    const close = `${match[1]}}`
    const end = lines.findIndex(
      (l, j) => j > opens && (l === close || l.startsWith(`${close})`) || l.startsWith(`${close},`)),
    )
    if (end === -1) continue
    found.push({ kind: klass ? 'class' : 'function', name: match[2]!, line: i + 1, lines: end - i + 1 })
  }
  return found
}

/** Every file, class and function of src/ over its size, unless its file says why with `size:`. */
function offenders(): string[] {
  const over: string[] = []
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const path = relative(root, join(entry.parentPath, entry.name))
    const text = readFileSync(join(root, path), 'utf8')
    if (/\/\/ size: \S/.test(text)) continue
    const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (count > most.file) over.push(`${path}: ${count} lines`)
    for (const b of blocks(text)) {
      if (b.lines > most[b.kind]) over.push(`${path}:${b.line}: ${b.kind} ${b.name}, ${b.lines} lines`)
    }
  }
  return over
}

test('the size check measures classes, functions, methods and arrow functions to their closing brace', () => {
  const text = [
    'export class Box {',
    '  #size = 1',
    '  grow(by: number): void {',
    '    if (by > 0) {',
    '      this.#size += by',
    '    }',
    '  }',
    '  readonly #onClose = (): void => {',
    '    this.#size = 0',
    '  }',
    '}',
    'export async function open(path: string): Promise<void> {',
    '  await path',
    '}',
    'function listen(',
    '  port: number,',
    '): void {',
    '  void port',
    '}',
  ].join('\n')
  assert.deepEqual(
    blocks(text).map((b) => `${b.kind} ${b.name} ${b.line} ${b.lines}`),
    ['class Box 1 11', 'function grow 3 5', 'function #onClose 8 3', 'function open 12 3', 'function listen 15 5'],
  )
})

test(`no file of src/ is over ${most.file} lines, no class over ${most.class}, no function over ${most.function}, unless it says why`, () => {
  const over = offenders()
  assert.deepEqual(over, [], `over the size, with no "// size: <reason>" in the file:\n${over.join('\n')}`)
})
