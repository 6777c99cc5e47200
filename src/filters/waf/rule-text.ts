import type { Target } from './rule.ts'

/** Whether an excluded or removed target covers a variable (`ARGS:id`) of a collection. */
export function keyMatches(t: Target, collection: string, name: string): boolean {
  if (t.collection !== collection) return false
  if (t.key === undefined) return true
  const key = name.slice(name.indexOf(':') + 1)
  return typeof t.key === 'string' ? key.toLowerCase() === t.key : t.key.test(key)
}

const templates = new Map<string, string[]>()

/**
 * A text with macros split once into literal and macro parts (`a%{tx.b}c` → ["a", "tx.b", "c"],
 * names lowercased). The texts are the rule files' own (setvar, operator arguments): a bounded set.
 */
export function template(text: string): string[] {
  let parts = templates.get(text)
  if (!parts) {
    parts = text.split(/%\{([^}]+)\}/).map((p, i) => (i % 2 === 1 ? p.toLowerCase() : p))
    templates.set(text, parts)
  }
  return parts
}

const txNames = new Map<string, string>()

/** `TX:name` for a rule's TX target, made once: the names are the rule files' own. */
export function txName(key: string): string {
  let name = txNames.get(key)
  if (name === undefined) {
    name = `TX:${key}`
    txNames.set(key, name)
  }
  return name
}
