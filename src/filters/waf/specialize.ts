import type { Program } from './compile.ts'
import { type Exclusions, nothing, prepare, type Start } from './engine.ts'
import type { Rule, Step } from './rule.ts'
import { Transaction } from './transaction.ts'

/** A route's own program: the steps its paranoia level, thresholds and exclusions leave to run, and where to start. */
export interface RoutePlan {
  readonly program: Program
  readonly start: Start
}

/** The TX names some rule may write during a request: exact names, prefixes of macro names, capture groups. */
interface Written {
  readonly exact: Set<string>
  readonly prefixes: string[]
  captures: boolean
}

function written(phases: readonly (readonly Step[])[]): Written {
  const w: Written = { exact: new Set(), prefixes: [], captures: false }
  for (const steps of phases)
    for (const s of steps)
      for (let r = s.rule; r; r = r.chain) {
        if (r.capture) w.captures = true
        for (const v of r.setvars) {
          const macro = v.name.indexOf('%{')
          if (macro === -1) w.exact.add(v.name)
          else w.prefixes.push(v.name.slice(0, macro))
        }
      }
  return w
}

function isConstant(w: Written, key: string): boolean {
  if (w.exact.has(key) || (w.captures && /^\d$/.test(key))) return false
  for (const p of w.prefixes) if (key.startsWith(p)) return false
  return true
}

/** Whether a rule's outcome depends only on TX values no rule of the route changes during a request. */
function readsConstants(rule: Rule, w: Written): boolean {
  for (let r: Rule | undefined = rule; r; r = r.chain) {
    if (r.targets.length === 0 || r.excluded.length > 0 || r.capture) return false
    for (const t of r.targets)
      if (t.collection !== 'TX' || typeof t.key !== 'string' || !isConstant(w, t.key)) return false
    for (const m of r.operatorMacros) if (!m.startsWith('tx.') || !isConstant(w, m.slice(3))) return false
  }
  return true
}

/** Whether a matching rule does nothing but jump: no score, no exclusion, no log line, no verdict. */
function onlyJumps(rule: Rule): boolean {
  for (let r: Rule | undefined = rule; r; r = r.chain)
    if (r.setvars.length > 0 || r.controls.length > 0 || r.deny || r.allow || r.msg !== '') return false
  return true
}

/**
 * Folds one phase's steps for a route: a rule whose outcome is fixed for the route (the paranoia
 * level gates of each file, the switches of the application exclusion packages) is decided here
 * once. One that never matches is left out; one that only jumps takes its jump, and the steps it
 * jumps over are left out, unless an earlier rule may land among them.
 */
function fold(steps: readonly Step[], w: Written, start: Start, exclusions: Exclusions): Step[] {
  const out: Step[] = []
  const targeted = new Set<string>()
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!
    const rule = step.rule
    if (rule === undefined) {
      out.push(step)
      continue
    }
    if (exclusions.ruleIds.has(rule.id)) continue
    if (!readsConstants(rule, w)) {
      out.push(step)
      if (rule.skipAfter !== undefined) targeted.add(rule.skipAfter)
      continue
    }
    const t = new Transaction(nothing, start.tx, exclusions)
    if (!t.evalLink(rule, rule)) continue
    if (!onlyJumps(rule)) {
      out.push(step)
      if (rule.skipAfter !== undefined) targeted.add(rule.skipAfter)
      continue
    }
    if (rule.skipAfter === undefined) continue
    let at = steps.length
    for (let j = steps.length - 1; j > i; j--)
      if (steps[j]!.marker === rule.skipAfter) {
        at = j
        break
      }
    const landed = steps.slice(i + 1, at).some((s) => s.marker !== undefined && targeted.has(s.marker))
    if (landed) {
      out.push(step)
      targeted.add(rule.skipAfter)
      continue
    }
    i = at - 1
  }
  return out
}

function markersOf(steps: readonly Step[]): Map<string, number> {
  const m = new Map<string, number>()
  steps.forEach((s, i) => {
    if (s.marker !== undefined) m.set(s.marker, i)
  })
  return m
}

/**
 * Builds a route's program once at config load: REQUEST-901's defaults run (engine.ts `prepare`),
 * then the rules whose outcome the route fixes are decided and left out. Every request of the
 * route then walks only the rules that can differ from one request to the next. Rules counted
 * with `skip:` would count differently once others are left out: such a program is run whole.
 */
export function specialize(program: Program, seed: ReadonlyMap<string, string>, exclusions: Exclusions): RoutePlan {
  const start = prepare(program, seed, exclusions)
  const counted = program.phases.some((steps) => steps.some((s) => s.rule !== undefined && s.rule.skip > 0))
  if (counted) return { program, start }
  const first = program.phases[0].slice(start.step)
  const w = written([first, program.phases[1]])
  const phases: [Step[], Step[]] = [fold(first, w, start, exclusions), fold(program.phases[1], w, start, exclusions)]
  const ruleCount = phases[0].concat(phases[1]).filter((s) => s.rule !== undefined).length
  return {
    program: { phases, markers: [markersOf(phases[0]), markersOf(phases[1])], skipped: program.skipped, ruleCount },
    start: { tx: start.tx, step: 0 },
  }
}
