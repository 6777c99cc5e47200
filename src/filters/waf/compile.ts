import { operators } from './operators.ts'
import { type Directive, parseActions, parseVariables, type VariableText } from './parse.ts'
import { readMask } from './presence.ts'
import { pcreToRegExp } from './regex.ts'
import type { Control, Rule, SetVar, Skipped, Step, Target } from './rule.ts'
import { transforms } from './transforms.ts'
import { collections, emptyCollections } from './variables.ts'

/** The rules of one config load, split by phase, and the rules left out with their reasons. */
export interface Program {
  /** Phase 1 (request headers) and phase 2 (request body) steps, in file order. */
  readonly phases: readonly [readonly Step[], readonly Step[]]
  readonly skipped: readonly Skipped[]
  /** Per phase: each marker's index in its steps, for `skipAfter`. */
  readonly markers: readonly [ReadonlyMap<string, number>, ReadonlyMap<string, number>]
  /** How many rule chains run. */
  readonly ruleCount: number
}

function compileTarget(v: VariableText): Target {
  if (!(v.collection in collections)) throw new Error(`variable ${v.collection} is not supported`)
  let key: string | RegExp | undefined
  if (v.key !== undefined) key = v.keyIsRegex ? pcreToRegExp(`(?i)${v.key}`) : v.key.toLowerCase()
  return { collection: v.collection, key, count: v.count }
}

function compileSetVar(text: string): SetVar | undefined {
  const del = text.startsWith('!')
  const body = del ? text.slice(1) : text
  const eq = body.indexOf('=')
  const name = (eq === -1 ? body : body.slice(0, eq)).trim().toLowerCase()
  // Only TX lives per request; persistent collections are not kept.
  if (!name.startsWith('tx.')) return undefined
  const key = name.slice(3)
  if (del) return { name: key, op: 'delete', value: '' }
  if (eq === -1) return { name: key, op: 'set', value: '1' }
  const value = body.slice(eq + 1)
  if (value.startsWith('+')) return { name: key, op: 'add', value: value.slice(1) }
  if (value.startsWith('-')) return { name: key, op: 'sub', value: value.slice(1) }
  return { name: key, op: 'set', value }
}

function compileControl(text: string): Control | undefined {
  const eq = text.indexOf('=')
  const name = text.slice(0, eq).toLowerCase()
  const value = text.slice(eq + 1)
  const [first, second] = value.split(';')
  const target = second === undefined ? undefined : compileTarget(parseVariables(second)[0]!)
  switch (name) {
    case 'ruleremovebyid': {
      const [a, b] = first!.split('-')
      return { kind: 'removeById', from: Number(a), to: Number(b ?? a) }
    }
    case 'ruleremovebytag':
      return { kind: 'removeByTag', tag: first! }
    case 'ruleremovetargetbyid':
      return target && { kind: 'removeTargetById', id: Number(first), target }
    case 'ruleremovetargetbytag':
      return target && { kind: 'removeTargetByTag', tag: first!, target }
    case 'ruleengine':
      return value.toLowerCase() === 'off' ? { kind: 'engineOff' } : undefined
    // Audit logging and body processing switches change nothing Portico decides.
    default:
      return undefined
  }
}

/** Builds one rule link from its target list, operator and actions; throws with the reason it cannot run. */
function compileRule(
  d: Directive,
  vars: string,
  op: string,
  actionText: string,
  inherited: { id: number; phase: number },
  rulesDir: string,
): { rule: Omit<Rule, 'chain'>; chained: boolean } {
  const a = ruleActions(actionText, inherited)
  const { operator, negated } = compileOperator(op, rulesDir)
  const parsed = vars === '' ? [] : parseVariables(vars)
  const targets: Target[] = []
  const excluded: Target[] = []
  for (const v of parsed) (v.exclude ? excluded : targets).push(compileTarget(v))
  return {
    rule: {
      id: a.id,
      phase: a.phase,
      file: d.file,
      line: d.line,
      targets,
      excluded,
      reads: readMask(targets),
      operator,
      negated,
      transforms: a.ts.map((t) => transforms[t]!),
      transformKey: a.ts.join(','),
      multiMatch: a.multiMatch,
      capture: a.capture,
      setvars: a.setvars,
      controls: a.controls,
      tags: a.tags,
      msg: a.msg,
      deny: a.deny,
      allow: a.allow,
      skipAfter: a.skipAfter,
      skip: a.skip,
    },
    chained: a.chained,
  }
}

/** What a rule link's actions say; `inherited` gives the id and phase a chained link takes from its head. */
function ruleActions(actionText: string, inherited: { id: number; phase: number }) {
  const r = {
    id: inherited.id,
    phase: inherited.phase,
    /** Transformation names, in order. */
    ts: [] as string[],
    deny: false,
    allow: false,
    capture: false,
    multiMatch: false,
    chained: false,
    skipAfter: undefined as string | undefined,
    skip: 0,
    msg: '',
    tags: [] as string[],
    setvars: [] as SetVar[],
    controls: [] as Control[],
  }
  for (const a of parseActions(actionText)) {
    const name = a.name.toLowerCase()
    if (name === 'id') r.id = Number(a.value)
    else if (name === 'phase') r.phase = a.value === 'request' ? 2 : Number(a.value)
    else if (name === 't') {
      const t = a.value.toLowerCase()
      if (t === 'none') r.ts.length = 0
      else if (!(t in transforms)) throw new Error(`transformation t:${a.value} is not supported`)
      else r.ts.push(t)
    } else if (name === 'deny' || name === 'drop') r.deny = true
    else if (name === 'allow') r.allow = true
    else if (name === 'capture') r.capture = true
    else if (name === 'multimatch') r.multiMatch = true
    else if (name === 'chain') r.chained = true
    else if (name === 'skipafter') r.skipAfter = a.value
    else if (name === 'skip') r.skip = Number(a.value)
    else if (name === 'msg') r.msg = a.value
    else if (name === 'tag') r.tags.push(a.value)
    else if (name === 'setvar') {
      const s = compileSetVar(a.value)
      if (s) r.setvars.push(s)
    } else if (name === 'ctl') {
      const c = compileControl(a.value)
      if (c) r.controls.push(c)
    }
  }
  return r
}

/** The operator of a rule link (`@name arg`, `!` negates, a bare pattern is `@rx`); throws when unsupported. */
function compileOperator(op: string, rulesDir: string): { operator: Rule['operator']; negated: boolean } {
  let negated = false
  let opText = op
  if (opText.startsWith('!')) {
    negated = true
    opText = opText.slice(1)
  }
  let opName = 'rx'
  let arg = opText
  if (opText.startsWith('@')) {
    const space = opText.indexOf(' ')
    opName = (space === -1 ? opText.slice(1) : opText.slice(1, space)).toLowerCase()
    arg = space === -1 ? '' : opText.slice(space + 1)
  }
  if (opName === 'pmf') opName = 'pmfromfile'
  const factory = operators[opName]
  if (!factory) throw new Error(`operator @${opName} is not supported`)
  return { operator: factory(arg, rulesDir), negated }
}

/** Rules that read a collection Portico keeps no data for: they run, but never match through it. */
function readsEmpty(rule: Rule): string | undefined {
  for (let r: Rule | undefined = rule; r; r = r.chain)
    for (const t of r.targets) if (emptyCollections.has(t.collection) && t.collection !== 'XML') return t.collection
  return undefined
}

/**
 * Compiles the rule (SecRule or SecAction) at `directives[start]` with the links chained to it.
 * Returns the links built, the head's, the first reason one cannot run, and the index of the last link.
 */
function compileChain(directives: readonly Directive[], start: number, rulesDir: string) {
  const d = directives[start]!
  let last = start
  let error: string | undefined
  let head: Omit<Rule, 'chain'> | undefined
  const built: Omit<Rule, 'chain'>[] = []
  let cur = d
  for (;;) {
    const isAction = cur.name.toLowerCase() === 'secaction'
    const [vars, op, actions] = isAction
      ? ['', '@unconditionalMatch', cur.args[0] ?? '']
      : [cur.args[0] ?? '', cur.args[1] ?? '', cur.args[2] ?? '']
    let chained = false
    try {
      const c = compileRule(cur, vars, op, actions, { id: head?.id ?? 0, phase: head?.phase ?? 2 }, rulesDir)
      if (cur === d) head = c.rule
      built.push(c.rule)
      chained = c.chained
    } catch (err) {
      error ??= (err as Error).message
      chained = /(^|,)\s*chain\s*(,|$)/.test(actions)
    }
    if (!chained) break
    last++
    cur = directives[last]!
  }
  return { head, built, error, last }
}

/**
 * Compiles the directives of the rule files into a program, once per config load. Response-phase
 * rules (3 and later) and rules using a construct Portico lacks are listed in `skipped`.
 */
export function compile(directives: readonly Directive[], rulesDir: string, removedIds: ReadonlySet<number>): Program {
  const phases: [Step[], Step[]] = [[], []]
  const skipped: Skipped[] = []
  const markers: [Map<string, number>, Map<string, number>] = [new Map(), new Map()]
  let ruleCount = 0
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!
    const kind = d.name.toLowerCase()
    if (kind === 'secmarker') {
      for (let p = 0; p < 2; p++) {
        markers[p]!.set(d.args[0]!, phases[p]!.length)
        phases[p]!.push({ rule: undefined, marker: d.args[0]! })
      }
      continue
    }
    if (kind !== 'secrule' && kind !== 'secaction') continue
    const { head, built, error, last } = compileChain(directives, i, rulesDir)
    i = last
    const id = head?.id ?? Number(/id:'?(\d+)/.exec(d.args.join(' '))?.[1] ?? 0)
    if (removedIds.has(id)) continue
    if (error !== undefined) {
      skipped.push({ id, file: d.file, line: d.line, reason: error })
      continue
    }
    let rule: Rule | undefined
    for (let k = built.length - 1; k >= 0; k--) rule = { ...built[k]!, id, phase: head!.phase, chain: rule }
    if (head!.phase > 2) {
      skipped.push({ id, file: d.file, line: d.line, reason: `phase ${head!.phase} inspects the response` })
      continue
    }
    const empty = readsEmpty(rule!)
    if (empty)
      skipped.push({
        id,
        file: d.file,
        line: d.line,
        reason: `reads ${empty}, which Portico does not keep (never matches through it)`,
      })
    phases[head!.phase - 1]!.push({ rule: rule!, marker: undefined })
    ruleCount++
  }
  return { phases, markers, skipped, ruleCount }
}
