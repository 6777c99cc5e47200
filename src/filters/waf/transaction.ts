import type { OperatorMatch } from './operators.ts'
import type { Outcome } from './outcomes.ts'
import { presentMask } from './presence.ts'
import { Removals } from './removals.ts'
import type { Pair, RequestData } from './request-data.ts'
import type { Exclusions, Finding, Rule, Target } from './rule.ts'
import { keyMatches, template, txName } from './rule-text.ts'
import { Tx } from './tx.ts'
import { collectionReaders, collectionSlots, type VariableState } from './variables.ts'

const noPairs: readonly Pair[] = []

/** Slots of the collections that change during evaluation (TX, MATCHED_*): read afresh each time. */
const volatile: readonly boolean[] = [...collectionSlots.keys()].map((n) => n === 'TX' || n.startsWith('MATCHED'))

/** Reads a number as ModSecurity does: what is not a number is 0. */
export const toInt = (s: string | undefined): number => {
  const n = Number.parseInt(s ?? '', 10)
  return Number.isNaN(n) ? 0 : n
}

/** One request's evaluation: TX, exclusions switched on by `ctl`, caches of collections and transforms. */
export class Transaction implements VariableState {
  readonly tx: Tx
  matchedVar = ''
  matchedVarName = ''
  readonly matchedVars: Pair[] = []
  readonly findings: Finding[] = []
  /** Findings of the chain under evaluation, kept only when the whole chain matches. */
  readonly pending: Finding[] = []
  readonly #data: RequestData
  readonly #removals: Removals
  /** The request's collections by slot, read on first use. */
  readonly #collections: (readonly Pair[] | undefined)[] = []
  readonly #transformed = new Map<string, Map<string, string>>()
  readonly #indexes: (Map<string, Pair[]> | undefined)[] = []
  engineOff = false
  readonly #present: number
  #rule: Rule | undefined

  constructor(data: RequestData, tx: ReadonlyMap<string, string>, exclusions: Exclusions) {
    this.#data = data
    this.#present = presentMask(data)
    this.tx = new Tx(tx)
    this.#removals = new Removals(exclusions)
  }

  /** Whether `rule` is left out for this request (the route's exclusions, `ctl` removals). */
  removed(rule: Rule): boolean {
    return this.#removals.removed(rule)
  }

  readonly expand = (text: string): string => {
    if (!text.includes('%{')) return text
    const parts = template(text)
    let out = parts[0]!
    for (let i = 1; i < parts.length; i += 2) out += this.#macro(parts[i]!) + parts[i + 1]!
    return out
  }

  /** One macro's value; `n` is its name, lowercased. */
  #macro(n: string): string {
    if (n.startsWith('tx.')) return this.tx.get(n.slice(3)) ?? ''
    if (n === 'matched_var') return this.matchedVar
    if (n === 'matched_var_name') return this.matchedVarName
    if (n === 'rule.id') return String(this.#rule?.id ?? '')
    if (n === 'rule.msg') return this.#rule?.msg ?? ''
    const dot = n.indexOf('.')
    const coll = (dot === -1 ? n : n.slice(0, dot)).toUpperCase()
    const slot = collectionSlots.get(coll)
    const pairs = slot === undefined ? noPairs : this.#collection(slot)
    if (dot === -1) return pairs[0]?.[1] ?? ''
    const key = n.slice(dot + 1)
    return pairs.find(([k]) => k.slice(k.indexOf(':') + 1).toLowerCase() === key)?.[1] ?? ''
  }

  #collection(slot: number): readonly Pair[] {
    const read = collectionReaders[slot]!
    // TX and the MATCHED_* variables change during evaluation; the request's own do not.
    if (volatile[slot]) return read(this.#data, this)
    let pairs = this.#collections[slot]
    if (!pairs) {
      pairs = read(this.#data, this)
      this.#collections[slot] = pairs
    }
    return pairs
  }

  /** A request collection's values under one key (lowercased), indexed on first use. */
  #byKey(slot: number, key: string): readonly Pair[] {
    if (volatile[slot]) {
      return this.#collection(slot).filter(([name]) => name.slice(name.indexOf(':') + 1).toLowerCase() === key)
    }
    let index = this.#indexes[slot]
    if (!index) {
      index = new Map()
      for (const p of this.#collection(slot)) {
        const k = p[0].slice(p[0].indexOf(':') + 1).toLowerCase()
        const list = index.get(k)
        if (list) list.push(p)
        else index.set(k, [p])
      }
      this.#indexes[slot] = index
    }
    return index.get(key) ?? noPairs
  }

  /** A target's pairs, less what is excluded (`excluded`: the rule's own exclusions of the target's collection). */
  #values(rule: Rule, t: Target, excluded: readonly Target[]): readonly Pair[] {
    // TX by exact name is read on every rule (the paranoia level checks): a map lookup.
    if (t.collection === 'TX' && typeof t.key === 'string') {
      const v = this.tx.get(t.key)
      if (t.count) return [['&TX', v === undefined ? '0' : '1']]
      return v === undefined ? noPairs : [[txName(t.key), v]]
    }
    // TX by regex (`TX:/^HEADER_NAME_/`): tested on the keys, pairs made for matches only.
    if (t.collection === 'TX' && t.key !== undefined && !t.count && excluded.length === 0) {
      const out: Pair[] = []
      const key = t.key as RegExp
      this.tx.forEachMatching(key, (v, k) => {
        out.push([`TX:${k}`, v])
      })
      return out
    }
    const all = typeof t.key === 'string' ? this.#byKey(t.slot, t.key) : this.#collection(t.slot)
    if (all.length === 0 && !t.count) return all
    if (typeof t.key !== 'object' && !t.count && this.#removals.none(rule, excluded)) return all
    const out: Pair[] = []
    for (const p of all) {
      if (typeof t.key === 'object' && !keyMatches(t, t.collection, p[0])) continue
      if (this.#removals.valueOff(rule, excluded, t.collection, p)) continue
      out.push(p)
    }
    if (t.count) return [[`&${t.collection}`, String(out.length)]]
    return out
  }

  #transform(rule: Rule, value: string): string {
    if (rule.transforms.length === 0) return value
    let cache = this.#transformed.get(rule.transformKey)
    if (!cache) {
      cache = new Map()
      this.#transformed.set(rule.transformKey, cache)
    }
    let out = cache.get(value)
    if (out === undefined) {
      out = value
      for (let i = 0; i < rule.transforms.length; i++) out = rule.transforms[i]!(out)
      cache.set(value, out)
    }
    return out
  }

  #candidates(rule: Rule, value: string): string[] {
    if (!rule.multiMatch) return [this.#transform(rule, value)]
    const out = [value]
    let v = value
    for (let i = 0; i < rule.transforms.length; i++) {
      v = rule.transforms[i]!(v)
      if (v !== out[out.length - 1]) out.push(v)
    }
    return out
  }

  /** Evaluates one link and, when it matches, the rest of its chain; true when the whole chain matched. */
  evalLink(rule: Rule, head: Rule): boolean {
    this.#rule = head
    // SecAction: no variable, it always matches, once.
    if (rule.targets.length === 0) {
      this.#record(rule, head, '', '', undefined)
      return rule.chain ? this.evalLink(rule.chain, head) : true
    }
    // Most rules read arguments, cookies or a body most requests do not have: nothing to match.
    if (!rule.negated && (rule.reads & this.#present) === 0) return false
    let matched = false
    const outcomes = rule.outcomes
    for (let i = 0; i < rule.targets.length; i++) {
      const pairs = this.#values(rule, rule.targets[i]!, rule.excludedPerTarget[i]!)
      for (let k = 0; k < pairs.length; k++) {
        const name = pairs[k]![0]
        const raw = pairs[k]![1]
        if (outcomes) {
          let o = outcomes.get(raw)
          if (o === undefined) {
            o = this.#judge(rule, raw)
            outcomes.set(raw, o)
          }
          if ((o.match !== undefined) === rule.negated) continue
          matched = true
          this.#record(rule, head, name, o.value, o.match)
          continue
        }
        const candidates = this.#candidates(rule, raw)
        for (let c = 0; c < candidates.length; c++) {
          const value = candidates[c]!
          const m = rule.operator(value, this.expand, this.#data.remoteAddr)
          if ((m !== undefined) === rule.negated) continue
          matched = true
          this.#record(rule, head, name, value, m)
          break
        }
      }
    }
    if (!matched) return false
    return rule.chain ? this.evalLink(rule.chain, head) : true
  }

  /** A link's outcome on one value: the first of its candidates (multiMatch) or its transformed value that decides. */
  #judge(rule: Rule, raw: string): Outcome {
    if (!rule.multiMatch) {
      const value = this.#transform(rule, raw)
      return { value, match: rule.operator(value, this.expand, this.#data.remoteAddr) }
    }
    const candidates = this.#candidates(rule, raw)
    for (let i = 0; i < candidates.length; i++) {
      const value = candidates[i]!
      const match = rule.operator(value, this.expand, this.#data.remoteAddr)
      if ((match !== undefined) !== rule.negated) return { value, match }
    }
    // None decided: an outcome that reads as "no match" for this link, negated or not.
    return { value: candidates[candidates.length - 1]!, match: rule.negated ? { fragment: '' } : undefined }
  }

  /** A value matched: MATCHED_VAR and its kin, captures, `setvar`s, and the finding for the log. */
  #record(rule: Rule, head: Rule, name: string, value: string, m: OperatorMatch | undefined): void {
    this.matchedVar = value
    this.matchedVarName = name
    this.matchedVars.push([name, value])
    if (rule.capture && m?.groups) {
      for (let g = 0; g < 10; g++) {
        if (m.groups[g] !== undefined) this.tx.set(String(g), m.groups[g]!)
        else this.tx.delete(String(g))
      }
    }
    this.#setvars(rule)
    if (head.msg !== '' && head.id >= 910000 && head.id < 949000)
      this.pending.push({ id: head.id, variable: name, fragment: m?.fragment ?? value })
  }

  #setvars(rule: Rule): void {
    for (let i = 0; i < rule.setvars.length; i++) {
      const s = rule.setvars[i]!
      const name = this.expand(s.name).toLowerCase()
      if (s.op === 'delete') this.tx.delete(name)
      else if (s.op === 'set') this.tx.set(name, this.expand(s.value))
      else {
        const delta = toInt(this.expand(s.value))
        this.tx.set(name, String(toInt(this.tx.get(name)) + (s.op === 'add' ? delta : -delta)))
      }
    }
  }

  /** Runs the `ctl` actions of every link of a chain that matched whole. */
  controls(rule: Rule): void {
    if (this.#removals.control(rule)) this.engineOff = true
  }
}
