// `portico explain`: which listener, route, phases, pool and server a request would take through a config file.
import { parseArgs } from 'node:util'
import type { ExplainRequest, Explanation } from './plan/explain.ts'

const usage = `Usage: portico explain -c FILE 'METHOD URL' [-H 'Name: value']... [--from ADDRESS] [--json]

Says how the config in FILE would handle the request: the listener, each earlier route with the
first of its conditions that did not hold, the route that takes it, its request phases, the action,
the pool and the server the balancer would choose. Nothing is sent anywhere.
`

/** Runs `portico explain ARGS`; resolves with the exit code (0 explained, 1 invalid config, 2 usage). */
export async function runExplain(argv: string[]): Promise<number> {
  let request: ExplainRequest
  let file: string
  let json: boolean
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        header: { type: 'string', short: 'H', multiple: true },
        from: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) {
      process.stdout.write(usage)
      return 0
    }
    if (!values.config) throw new Error('explain needs -c FILE')
    if (positionals.length !== 1) throw new Error("explain needs one request, e.g. 'GET https://example.com/'")
    request = parseRequest(positionals[0]!, values.header ?? [], values.from)
    file = values.config
    json = values.json === true
  } catch (err) {
    process.stderr.write(`portico: ${(err as Error).message}\n\n${usage}`)
    return 2
  }
  const { loadConfig } = await import('./config/load.ts')
  const { ConfigError } = await import('./config/problem.ts')
  const { explain } = await import('./plan/explain.ts')
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(file)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    return 1
  }
  const explanation = await explain(config, request)
  process.stdout.write(json ? `${JSON.stringify(explanation, null, 2)}\n` : explanationText(explanation))
  return 0
}

/** `'GET https://example.com/'` with `Name: value` headers → the request to explain. */
export function parseRequest(line: string, headers: readonly string[], from: string | undefined): ExplainRequest {
  const parts = line.trim().split(/\s+/)
  const [method, url] = parts.length === 1 ? ['GET', parts[0]!] : parts
  if (parts.length > 2 || !method || !url || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new Error(`expected 'METHOD http(s)://host/path', found "${line}"`)
  const fields: Record<string, string> = {}
  for (const h of headers) {
    const colon = h.indexOf(':')
    if (colon <= 0) throw new Error(`expected -H 'Name: value', found "${h}"`)
    const name = h.slice(0, colon).trim().toLowerCase()
    const value = h.slice(colon + 1).trim()
    fields[name] = fields[name] === undefined ? value : `${fields[name]}${name === 'cookie' ? '; ' : ', '}${value}`
  }
  return { method, url, headers: fields, from }
}

/** The explanation as lines a person reads. */
export function explanationText(e: Explanation): string {
  const out: string[] = []
  const r = e.request
  out.push(`request   ${r.method} ${r.url} from ${r.client}${r.country ? ` (country ${r.country})` : ''}`)
  out.push(
    e.listener
      ? `listener  #${e.listener.index} ${e.listener.address}${e.listener.tls ? ' (tls)' : ''}${e.listener.port_matches ? '' : ' (no listener on that port; the first of that scheme)'}`
      : `listener  none: no ${r.url.startsWith('https:') ? 'TLS' : 'plain'} listener`,
  )
  if (e.path === null) {
    out.push('path      refused by the listener: 400 bad_request')
    return `${out.join('\n')}\n`
  }
  out.push(`path      ${e.path}`)
  for (const p of e.passed)
    out.push(
      `route     #${p.index} ${p.name}: skipped, ${p.failed.condition} ${JSON.stringify(p.failed.expected)} did not hold`,
    )
  if (!e.route) {
    out.push('route     none: no_route (the no_route answer, 404 by default)')
    return `${out.join('\n')}\n`
  }
  out.push(`route     #${e.route.index} ${e.route.name}: taken`)
  out.push(`phases    ${e.phases.join(' → ')}`)
  if (e.cache) out.push('cache     the route caches: a fresh stored response answers before the action')
  out.push(`action    ${e.action === 'split' ? `split → pool ${e.pool}` : e.pool ? `pool ${e.pool}` : e.action}`)
  if (e.pool) {
    out.push(`server    ${e.server ?? 'none usable: 503'}`)
    out.push(`backend   ${e.backend_path}`)
  }
  return `${out.join('\n')}\n`
}
