import type { Program } from './compile.ts'
import { type RequestData, requestData } from './request-data.ts'
import type { Exclusions, Finding, Rule } from './rule.ts'
import { Transaction, toInt } from './transaction.ts'

export type { Exclusions, Finding } from './rule.ts'

/** What the rules decided about one request. */
export interface Decision {
  /** Whether a disruptive rule (the anomaly score check, or another `deny`) refused it. */
  readonly deny: boolean
  /** The rule that refused it, 0 when none did. */
  readonly denyId: number
  /** The inbound anomaly score at the end (tx.anomaly_score). */
  readonly score: number
  readonly findings: readonly Finding[]
}

/** Where a route's evaluation starts: TX as the rules that read only TX leave it, and the phase-1 step after them. */
export interface Start {
  readonly tx: ReadonlyMap<string, string>
  readonly step: number
}

/** A request with nothing in it, for evaluating rules that read TX alone. */
export const nothing = requestData({
  method: 'GET',
  target: '/',
  protocol: 'HTTP/1.1',
  headers: [],
  remoteAddr: '',
  body: undefined,
})

/** Whether a rule's outcome depends on TX alone and it changes nothing but TX. */
function readsOnlyTx(rule: Rule): boolean {
  for (let r: Rule | undefined = rule; r; r = r.chain) {
    if (r.targets.some((t) => t.collection !== 'TX') || r.controls.length > 0 || r.capture || r.skip > 0) return false
    if (r.setvars.some((s) => /%\{(?!tx\.|rule\.)/i.test(s.name + s.value))) return false
  }
  return true
}

/**
 * Runs, once per route, the leading phase-1 rules whose outcome depends on TX alone (REQUEST-901
 * setting its defaults from the route's paranoia level and thresholds): every request of the route
 * would compute the same, so each starts from their result instead.
 */
export function prepare(program: Program, seed: ReadonlyMap<string, string>, exclusions: Exclusions): Start {
  const t = new Transaction(nothing, seed, exclusions)
  const steps = program.phases[0]
  let i = 0
  for (; i < steps.length; i++) {
    const rule = steps[i]!.rule
    if (rule === undefined || t.removed(rule)) continue
    if (!readsOnlyTx(rule)) break
    // A rule that denies or allows (901001: the setup is missing) is run here only when it has
    // nothing else to do; if it matches, it is left for each request to meet.
    const disruptive = last(rule, (r) => r.deny || r.allow)
    if (disruptive && last(rule, (r) => r.setvars.length > 0)) break
    t.matchedVars.length = 0
    if (!t.evalLink(rule, rule)) continue
    if (disruptive) break
    if (rule.skipAfter !== undefined) {
      const at = program.markers[0].get(rule.skipAfter)
      i = at !== undefined && at > i ? at : steps.length
    }
  }
  return { tx: t.tx.toMap(), step: i }
}

function last(rule: Rule, pick: (r: Rule) => boolean): boolean {
  for (let r: Rule | undefined = rule; r; r = r.chain) if (pick(r)) return true
  return false
}

/**
 * Evaluates the program on one request: phase 1, then phase 2, in file order, with `skipAfter`
 * jumps to markers, `ctl` exclusions for the rest of the request, and `setvar` scoring. Stops at
 * the first rule that denies or allows. `start` is a route's prepared start, or a plain TX seed (paranoia level, thresholds).
 */
export function evaluate(
  program: Program,
  data: RequestData,
  start: Start | ReadonlyMap<string, string>,
  exclusions: Exclusions,
): Decision {
  const from = start instanceof Map ? { tx: start, step: 0 } : (start as Start)
  const t = new Transaction(data, from.tx, exclusions)
  for (let phase = 0; phase < 2; phase++) {
    const steps = program.phases[phase]!
    const markers = program.markers[phase]!
    for (let i = phase === 0 ? from.step : 0; i < steps.length; i++) {
      const rule = steps[i]!.rule
      if (rule === undefined) continue
      if (t.removed(rule)) continue
      // Emptied only when needed: setting an array's length is a slow path in V8.
      if (t.matchedVars.length > 0) t.matchedVars.length = 0
      if (t.pending.length > 0) t.pending.length = 0
      if (!t.evalLink(rule, rule)) continue
      for (let k = 0; k < t.pending.length; k++) t.findings.push(t.pending[k]!)
      t.controls(rule)
      if (t.engineOff) return { deny: false, denyId: 0, score: toInt(t.tx.get('anomaly_score')), findings: t.findings }
      if (last(rule, (r) => r.deny))
        return { deny: true, denyId: rule.id, score: toInt(t.tx.get('anomaly_score')), findings: t.findings }
      if (last(rule, (r) => r.allow))
        return { deny: false, denyId: 0, score: toInt(t.tx.get('anomaly_score')), findings: t.findings }
      if (rule.skipAfter !== undefined) {
        const at = markers.get(rule.skipAfter)
        i = at !== undefined && at > i ? at : steps.length
      } else if (rule.skip > 0) i += rule.skip
    }
  }
  return { deny: false, denyId: 0, score: toInt(t.tx.get('anomaly_score')), findings: t.findings }
}
