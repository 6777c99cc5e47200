import type { Operator } from './operators.ts'
import type { Outcomes } from './outcomes.ts'
import type { Transform } from './transforms.ts'

/** A variable of a rule's target list, compiled. */
export interface Target {
  readonly collection: string
  /** The collection's number (variables.ts `collectionSlots`). */
  readonly slot: number
  /** Exact key (lowercased), or a regex over keys, or undefined for the whole collection. */
  readonly key: string | RegExp | undefined
  readonly count: boolean
}

/** `setvar:` compiled: a TX name (lowercased), and what to do with it. */
export interface SetVar {
  readonly name: string
  readonly op: 'set' | 'add' | 'sub' | 'delete'
  readonly value: string
}

/** `ctl:` compiled: the exclusions a rule may switch on for the rest of the request. */
export type Control =
  | { readonly kind: 'removeById'; readonly from: number; readonly to: number }
  | { readonly kind: 'removeByTag'; readonly tag: string }
  | { readonly kind: 'removeTargetById'; readonly id: number; readonly target: Target }
  | { readonly kind: 'removeTargetByTag'; readonly tag: string; readonly target: Target }
  | { readonly kind: 'engineOff' }

/** One link of a rule (a chain has several), built once per config load. */
export interface Rule {
  readonly id: number
  readonly phase: number
  readonly file: string
  readonly line: number
  readonly targets: readonly Target[]
  readonly excluded: readonly Target[]
  /** Per target, the excluded targets of its collection (most are empty: the walk skips the check). */
  readonly excludedPerTarget: readonly (readonly Target[])[]
  /** The collections the targets read, as presence bits (presence.ts). */
  readonly reads: number
  readonly operator: Operator
  /** The macros of the operator's argument (`tx.paranoia_level` for `@lt %{tx.paranoia_level}`), lowercased. */
  readonly operatorMacros: readonly string[]
  readonly negated: boolean
  /** The transformations in order, and a key naming the chain of them for the per-request cache. */
  readonly transforms: readonly Transform[]
  readonly transformKey: string
  readonly multiMatch: boolean
  /** Outcomes by raw value kept across requests, for a link that decides on the value alone; else undefined. */
  readonly outcomes: Outcomes | undefined
  readonly capture: boolean
  readonly setvars: readonly SetVar[]
  readonly controls: readonly Control[]
  readonly tags: readonly string[]
  readonly msg: string
  /** `deny` or `drop`: the request is refused when the whole chain matches. */
  readonly deny: boolean
  /** `allow`: evaluation stops and the request passes. */
  readonly allow: boolean
  readonly skipAfter: string | undefined
  readonly skip: number
  readonly chain: Rule | undefined
}

/** A rule or a marker, in the order of the files, for one phase; one shape for both, so the walk stays fast. */
export interface Step {
  readonly rule: Rule | undefined
  readonly marker: string | undefined
}

/** A rule Portico does not run, and why; listed when the rules load. */
export interface Skipped {
  readonly id: number
  readonly file: string
  readonly line: number
  readonly reason: string
}

/** A rule that matched: its id, the variable, and the matched fragment (not yet truncated). */
export interface Finding {
  readonly id: number
  readonly variable: string
  readonly fragment: string
}

/** Per-route exclusions applied at evaluation: rules off, and targets off per rule or for all rules. */
export interface Exclusions {
  readonly ruleIds: ReadonlySet<number>
  /** Targets (ARGS:name, REQUEST_COOKIES:name…) no rule inspects. */
  readonly targets: readonly Target[]
  /** Targets a given rule does not inspect. */
  readonly targetsById: ReadonlyMap<number, readonly Target[]>
  /** Free-text fields (prose.ts): the free-text rules skip their values when they look like prose. None when absent. */
  readonly freeTextFields?: ReadonlySet<string>
}
