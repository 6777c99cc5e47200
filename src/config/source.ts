import { isMap, isScalar, isSeq, type Node, type Scalar, type YAMLMap } from 'yaml'

/** A key path into the config, as zod reports it: `['routes', 0, 'pool']`. */
export type KeyPath = readonly PropertyKey[]

/** A problem found in the YAML source, before it is formatted with line and column. */
export interface SourceProblem {
  /** Character offset in the file text. */
  readonly offset: number
  readonly path: KeyPath
  readonly message: string
}

/** Which end of a `key: value` pair a problem is about. */
export type Part = 'key' | 'value'

/** What `walk` calls back for. */
export interface Visitor {
  /** Every scalar value (not keys), with its key path. */
  scalar?(node: Scalar, path: KeyPath): void
  /** Every map, the root included, with its key path. */
  map?(node: YAMLMap, path: KeyPath): void
}

/** Visits the nodes under `root` in document order. */
export function walk(root: Node | null, visitor: Visitor): void {
  const go = (node: unknown, path: PropertyKey[]): void => {
    if (isScalar(node)) visitor.scalar?.(node, path)
    else if (isMap(node)) {
      visitor.map?.(node, path)
      for (const pair of node.items) go(pair.value, [...path, keyText(pair.key)])
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) go(item, [...path, i])
    }
  }
  go(root, [])
}

/** The text of a map key as it appears in key paths. */
export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key)
}

/**
 * The source offset of what `path` names: the key itself for `part: 'key'` (an unknown key), its
 * value for `part: 'value'` (a bad value). When the path runs past what the file holds (a missing
 * key, a default), the offset of the deepest part that exists.
 */
export function locate(root: Node | null, path: KeyPath, part: Part): number {
  let node: unknown = root
  let offset = root?.range?.[0] ?? 0
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(key))
      if (!pair) break
      const keyStart = (pair.key as Node | null)?.range?.[0] ?? offset
      const valueStart = (pair.value as Node | null)?.range?.[0]
      // On the way down, the key: a missing key below is reported at its parent's key line.
      offset = last && part === 'value' ? (valueStart ?? keyStart) : keyStart
      node = pair.value
    } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
      node = node.items[key]
      offset = (node as Node).range?.[0] ?? offset
    } else break
  }
  return offset
}
