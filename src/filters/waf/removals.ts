import { freeTextRules, skipsProse } from './prose.ts'
import type { Pair } from './request-data.ts'
import type { Exclusions, Rule, Target } from './rule.ts'
import { keyMatches } from './rule-text.ts'

/**
 * What one request leaves out of its evaluation: the route's exclusions, and the rules and targets
 * that `ctl` actions of matched rules remove for the rest of the request.
 */
export class Removals {
  readonly #exclusions: Exclusions
  readonly #ids: [number, number][] = []
  readonly #tags = new Set<string>()
  readonly #targets: { id?: number; tag?: string; target: Target }[] = []

  constructor(exclusions: Exclusions) {
    this.#exclusions = exclusions
  }

  /** Whether `rule` is left out whole, by the route's exclusions or a `ctl` removal. */
  removed(rule: Rule): boolean {
    if (this.#exclusions.ruleIds.has(rule.id)) return true
    if (this.#ids.length === 0 && this.#tags.size === 0) return false
    for (let i = 0; i < this.#ids.length; i++) {
      const [a, b] = this.#ids[i]!
      if (rule.id >= a && rule.id <= b) return true
    }
    if (this.#tags.size > 0) for (const t of rule.tags) if (this.#tags.has(t)) return true
    return false
  }

  /** True when nothing can leave a value of `rule` out (`excluded`: the rule's own exclusions of the target). */
  none(rule: Rule, excluded: readonly Target[]): boolean {
    return (
      excluded.length === 0 &&
      (this.#exclusions.freeTextFields === undefined || !freeTextRules.has(rule.id)) &&
      this.#exclusions.targets.length === 0 &&
      this.#targets.length === 0 &&
      !this.#exclusions.targetsById.has(rule.id)
    )
  }

  /** Whether the value `pair` of `collection` is left out for `rule`: by target, or as free text. */
  valueOff(rule: Rule, excluded: readonly Target[], collection: string, pair: Pair): boolean {
    if (this.#targetOff(rule, excluded, collection, pair[0])) return true
    const fields = this.#exclusions.freeTextFields
    return fields !== undefined && skipsProse(fields, rule.id, collection, pair)
  }

  #targetOff(rule: Rule, excluded: readonly Target[], collection: string, name: string): boolean {
    for (const t of excluded) if (keyMatches(t, collection, name)) return true
    for (const t of this.#exclusions.targets) if (keyMatches(t, collection, name)) return true
    const byId = this.#exclusions.targetsById.get(rule.id)
    if (byId) for (const t of byId) if (keyMatches(t, collection, name)) return true
    for (const r of this.#targets) {
      if (r.id !== undefined ? r.id !== rule.id : !rule.tags.includes(r.tag!)) continue
      if (keyMatches(r.target, collection, name)) return true
    }
    return false
  }

  /** Runs the `ctl` actions of every link of a chain that matched whole; true when one turned the engine off. */
  control(rule: Rule): boolean {
    let engineOff = false
    for (let r: Rule | undefined = rule; r; r = r.chain) {
      for (const c of r.controls) {
        if (c.kind === 'removeById') this.#ids.push([c.from, c.to])
        else if (c.kind === 'removeByTag') this.#tags.add(c.tag)
        else if (c.kind === 'removeTargetById') this.#targets.push({ id: c.id, target: c.target })
        else if (c.kind === 'removeTargetByTag') this.#targets.push({ tag: c.tag, target: c.target })
        else engineOff = true
      }
    }
    return engineOff
  }
}
