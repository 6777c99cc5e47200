import { tmpdir } from 'node:os'
import type { Exchange } from '../../exchange.ts'
import { requestBuffer } from '../buffer/request-buffer.ts'
import type { RequestPhase, Verdict } from '../phase.ts'
import type { Program } from './compile.ts'
import { type Exclusions, evaluate, type Start } from './engine.ts'
import { formatFindings } from './findings.ts'
import { loadRules } from './load.ts'
import { type Pair, requestData } from './request-data.ts'
import type { Target } from './rule.ts'
import type { WafGlobalConfig, WafRouteConfig } from './schema.ts'
import { specialize } from './specialize.ts'
import { collectionSlots } from './variables.ts'

/** Request bodies up to this size are read into memory for inspection; larger ones spill to a file. */
const memoryBytes = 1024 * 1024

function argTargets(names: readonly string[]): Target[] {
  return names.flatMap((name) =>
    ['ARGS', 'ARGS_NAMES', 'ARGS_GET', 'ARGS_POST', 'ARGS_GET_NAMES', 'ARGS_POST_NAMES'].map((collection) => ({
      collection,
      slot: collectionSlots.get(collection)!,
      key: name.toLowerCase(),
      count: false,
    })),
  )
}

/** The TX values a route sets before the rules' own defaults (REQUEST-901 keeps values already set). */
function seed(config: WafRouteConfig): Map<string, string> {
  return new Map([
    ['crs_setup_version', '334'],
    ['paranoia_level', String(config.paranoia_level)],
    ['executing_paranoia_level', String(config.paranoia_level)],
    ['inbound_anomaly_score_threshold', String(config.inbound_threshold)],
    ['allowed_methods', config.allowed_methods.join(' ')],
  ])
}

/** Builds the per-route exclusions from the config's rule ids and argument names. */
export function exclusions(config: WafRouteConfig): Exclusions {
  const targetsById = new Map<number, Target[]>()
  for (const [id, names] of Object.entries(config.exclude_args_by_rule)) targetsById.set(Number(id), argTargets(names))
  return {
    ruleIds: new Set(config.exclude_rules),
    targets: argTargets(config.exclude_args),
    targetsById,
    ...(config.free_text_fields.length > 0
      ? { freeTextFields: new Set(config.free_text_fields.map((f) => f.toLowerCase())) }
      : {}),
  }
}

/** The route's firewall: evaluates the rules, logs what matched, refuses in block mode. */
class WafPhase implements RequestPhase {
  readonly #program: Program
  readonly #config: WafRouteConfig
  readonly #start: Start
  readonly #exclusions: Exclusions
  readonly #body: RequestPhase

  constructor(program: Program, config: WafRouteConfig, maxBodyBytes: number) {
    this.#config = config
    this.#exclusions = exclusions(config)
    const plan = specialize(program, seed(config), this.#exclusions)
    this.#program = plan.program
    this.#start = plan.start
    this.#body = requestBuffer({
      memoryBytes: Math.max(memoryBytes, config.body_bytes),
      maxBytes: maxBodyBytes,
      dir: tmpdir(),
    })
  }

  onRequest(x: Exchange): Verdict | Promise<Verdict> {
    const h = x.req.headers
    const hasBody =
      h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')
    if (!hasBody) return this.#decide(x, undefined)
    const read = this.#body.onRequest(x, undefined as never)
    if (typeof read === 'string') return read
    return Promise.resolve(read).then((v) => {
      if (v !== undefined) return v
      const body = x.body?.open()
      // A body too large for memory went to a file: its first bytes are not inspected.
      return this.#decide(x, Buffer.isBuffer(body) ? body.subarray(0, this.#config.body_bytes) : undefined)
    })
  }

  #decide(x: Exchange, body: Buffer | undefined): Verdict {
    const raw = x.req.rawHeaders
    const headers: Pair[] = []
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!
      // HTTP/2 pseudo-headers are the request line; `:authority` stands for Host (RFC 9113 §8.3.1).
      if (name === ':authority' && x.req.headers.host === undefined) headers.push(['Host', raw[i + 1]!])
      else if (!name.startsWith(':')) headers.push([name, raw[i + 1]!])
    }
    const data = requestData({
      method: x.req.method ?? 'GET',
      target: x.req.url ?? x.path,
      protocol: `HTTP/${x.req.httpVersion}`,
      headers,
      remoteAddr: x.clientAddress,
      body,
    })
    const d = evaluate(this.#program, data, this.#start, this.#exclusions)
    if (!d.deny) {
      if (d.findings.length > 0) x.waf = `score ${d.score}: ${formatFindings(d.findings)}`
      return undefined
    }
    x.waf = `${this.#config.mode === 'block' ? 'blocked' : 'would block'} by ${d.denyId}, score ${d.score}: ${formatFindings(d.findings)}`
    return this.#config.mode === 'block' ? 'waf_blocked' : undefined
  }
}

const programs = new WeakMap<WafGlobalConfig, Program>()

/**
 * Builds a route's firewall phase, or undefined when the route has no `waf` block or its mode is
 * off. The rule files are compiled once per config load (per `waf` global block) and shared by
 * every route; a rule Portico cannot run is listed through `onSkipped` when they load.
 */
export function wafPhase(
  route: { waf?: WafRouteConfig | undefined; max_body_bytes: number },
  global: WafGlobalConfig,
  onSkipped: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): RequestPhase | undefined {
  if (!route.waf || route.waf.mode === 'off') return undefined
  let program = programs.get(global)
  if (!program) {
    program = loadRules(global.rules_dir)
    programs.set(global, program)
    onSkipped(
      `waf: ${program.ruleCount} rules loaded from ${global.rules_dir}; ${program.skipped.length} listed as not run or partly run:`,
    )
    for (const s of program.skipped) onSkipped(`waf:   ${s.id} ${s.file}:${s.line} ${s.reason}`)
  }
  return new WafPhase(program, route.waf, route.max_body_bytes)
}
