import type { LoadResult } from './load.ts'

/** The median figures of one contender in one scenario. */
export interface Row {
  readonly contender: string
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Proxy CPU time per request, in microseconds; undefined for the origin alone. */
  readonly cpuUsPerRequest: number | undefined
  readonly errors: number
  /** Requests per second relative to Portico's in the same scenario. */
  readonly vsPortico: number
}

/** Memory of one contender's processes over the whole run. */
export interface Memory {
  readonly contender: string
  readonly peakRssMb: number
  /** RSS right after the last round's load. */
  readonly rssAtEndMb: number
  /** RSS once every contender has been idle for {@link Report.idleSeconds}: what `ps` shows after the run. */
  readonly rssAfterMb: number
  /** Private (anonymous) RSS after the run: what this contender costs beyond shared code. */
  readonly privateAfterMb: number
}

/** Everything a run found: what `--json` writes, and what the table shows. */
export interface Report {
  readonly date: string
  readonly versions: Record<string, string>
  readonly settings: Record<string, unknown>
  /** Scenarios left out of this run, and why. */
  readonly notes: readonly string[]
  readonly scenarios: readonly ScenarioReport[]
  readonly memory: readonly Memory[]
  /** How long the load had stopped when `rssAfterMb` was read, in seconds. */
  readonly idleSeconds: number
  readonly targets: readonly { readonly target: string; readonly met: boolean; readonly detail: string }[]
}

/** One scenario's table, who sat it out, and the ratios it was run for. */
export interface ScenarioReport {
  readonly name: string
  readonly title: string
  readonly rows: readonly Row[]
  readonly skipped: readonly { readonly contender: string; readonly reason: string }[]
  readonly ratios: readonly { readonly label: string; readonly value: number }[]
}

/** One round's measurement of one contender in one scenario. */
export interface Sample extends LoadResult {
  readonly cpuSeconds: number | undefined
}

/** The median of each figure over the rounds, and the ratio to `porticoRps`. */
export function summarise(contender: string, samples: readonly Sample[], porticoRps: number): Row {
  const rps = median(samples.map((s) => s.rps))
  const cpu = samples.every((s) => s.cpuSeconds !== undefined)
    ? median(samples.map((s) => (s.cpuSeconds! / Math.max(1, s.requests)) * 1e6))
    : undefined
  return {
    contender,
    rps,
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    cpuUsPerRequest: cpu,
    errors: samples.reduce((n, s) => n + s.errors, 0),
    vsPortico: porticoRps > 0 ? rps / porticoRps : Number.NaN,
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The report as Markdown tables, readable in a terminal and pasted as is into docs/PERFORMANCE.md. */
export function formatReport(r: Report): string {
  const lines: string[] = []
  lines.push(
    `Run of ${r.date}. ${Object.entries(r.settings)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}.`,
  )
  lines.push(
    '',
    `Versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  )
  for (const note of r.notes) lines.push('', note)
  const headline = cpuVsNginxSummary(r.scenarios)
  if (headline.length > 0) {
    lines.push('', '### CPU per request ÷ nginx’s (same run)', '')
    lines.push(table(['scenario', 'contender', 'CPU ÷ nginx'], headline))
  }
  for (const s of r.scenarios) {
    const direct = s.rows.find((row) => row.contender === 'direct')
    const nginxCpu = s.rows.find((row) => row.contender === 'nginx')?.cpuUsPerRequest
    lines.push('', `### ${s.title} (\`${s.name}\`)`, '')
    lines.push(
      table(
        ['contender', 'req/s', 'p50 ms', 'p99 ms', 'p99 added', 'CPU µs/req', 'CPU ÷ nginx', 'errors', 'vs Portico'],
        [
          ...s.rows.map((row) => [
            row.contender,
            fixed(row.rps, 0),
            fixed(row.p50Ms, 2),
            fixed(row.p99Ms, 2),
            direct && row.contender !== 'direct' ? fixed(row.p99Ms - direct.p99Ms, 2) : '',
            row.cpuUsPerRequest === undefined ? '' : fixed(row.cpuUsPerRequest, 1),
            cpuRatio(row.cpuUsPerRequest, nginxCpu),
            String(row.errors),
            `${fixed(row.vsPortico, 2)}×`,
          ]),
          ...s.skipped.map(({ contender, reason }) => [
            `${contender} (skipped: ${reason})`,
            '',
            '',
            '',
            '',
            '',
            '',
            '',
            '',
          ]),
        ],
      ),
    )
    if (s.ratios.length > 0)
      lines.push('', s.ratios.map(({ label, value }) => `${label}: ${fixed(value, 2)}×`).join('; '))
  }
  lines.push('', '### Memory', '', `RSS after: once the load has stopped for ${r.idleSeconds} s.`, '')
  lines.push(
    table(
      ['contender', 'peak RSS MB', 'RSS at load end MB', 'RSS after MB', 'private after MB'],
      r.memory.map((m) => [
        m.contender,
        fixed(m.peakRssMb, 1),
        fixed(m.rssAtEndMb, 1),
        fixed(m.rssAfterMb, 1),
        fixed(m.privateAfterMb, 1),
      ]),
    ),
  )
  if (r.targets.length > 0) {
    lines.push('', '### Targets', '')
    lines.push(
      table(
        ['target', 'met', 'measured'],
        r.targets.map((t) => [t.target, t.met ? 'yes' : 'NO', t.detail]),
      ),
    )
  }
  return `${lines.join('\n')}\n`
}

/** A contender's CPU time per request over nginx's in the same scenario: blank where either is missing. */
function cpuRatio(ours: number | undefined, nginx: number | undefined): string {
  return ours === undefined || nginx === undefined || nginx <= 0 ? '' : `${fixed(ours / nginx, 2)}×`
}

/** The headline rows: each Portico contender's CPU per request over nginx's, scenario by scenario. */
function cpuVsNginxSummary(scenarios: readonly ScenarioReport[]): string[][] {
  const out: string[][] = []
  for (const s of scenarios) {
    const nginxCpu = s.rows.find((row) => row.contender === 'nginx')?.cpuUsPerRequest
    if (nginxCpu === undefined) continue
    for (const row of s.rows)
      if (row.contender.startsWith('portico') && row.cpuUsPerRequest !== undefined)
        out.push([s.name, row.contender, cpuRatio(row.cpuUsPerRequest, nginxCpu)])
  }
  return out
}

function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a'
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`
  return [line(head), rule, ...rows.map(line)].join('\n')
}
