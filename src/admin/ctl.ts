// `portico ctl`: the admin API from a shell. Every command is one or more API calls.
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { parseArgs } from 'node:util'
import type { PoolView, ServerView } from './live-state.ts'

export const ctlHelp = `Usage: portico ctl [--admin URL] [--token TOKEN] [--ca FILE] COMMAND
  servers                          every pool's servers: health, state, in flight, weight
  drain POOL SERVER [--wait]       no new requests; --wait until nothing is in flight
  enable POOL SERVER               take requests again
  weight POOL SERVER N             set the weight (0 to 1000)
  add POOL SERVER [--weight N]     add a server
  remove POOL SERVER [--deadline MS]  drain, then remove (default deadline 30000)
  reload [--dry-run]               reload the config file; says which API changes it undoes
  validate FILE                    check a config file against the running Portico's schema
  changes                          changes made through the API that the file does not have
--admin defaults to $PORTICO_ADMIN or http://127.0.0.1:9901; --token to $PORTICO_ADMIN_TOKEN.
`

interface Reply {
  readonly status: number
  readonly body: unknown
}

/** Runs `portico ctl ARGS`, writing to `out` and `err`; resolves with the exit code (0 ok, 1 refused, 2 usage). */
export async function runCtl(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    err.write(`portico ctl: ${(e as Error).message}\n\n${ctlHelp}`)
    return 2
  }
  const { values, positionals } = parsed
  const [command, ...args] = positionals
  const base = values.admin ?? env.PORTICO_ADMIN ?? 'http://127.0.0.1:9901'
  const token = values.token ?? env.PORTICO_ADMIN_TOKEN
  const ca = values.ca ? readFileSync(values.ca) : undefined
  const call = (method: string, path: string, body?: string) => send(base, method, path, body, token, ca)
  const run = command !== undefined && Object.hasOwn(commands, command) ? commands[command] : undefined
  if (!run) {
    err.write(command ? `portico ctl: unknown command "${command}"\n\n${ctlHelp}` : ctlHelp)
    return 2
  }
  let reply: Reply
  try {
    reply = await run({ command: command!, args, values, call, out })
  } catch (e) {
    err.write(`portico ctl: ${(e as Error).message}\n`)
    return (e as Error).message.includes('argument') ? 2 : 1
  }
  if (reply.status >= 300 && reply.status !== 422) {
    err.write(`portico ctl: ${(reply.body as { error?: string }).error ?? `status ${reply.status}`}\n`)
  }
  return reply.status < 300 ? 0 : 1
}

/** What a command works with: its arguments and options, a call to the admin API, where to write. */
interface CtlContext {
  readonly command: string
  readonly args: readonly string[]
  readonly values: ReturnType<typeof parse>['values']
  readonly call: (method: string, path: string, body?: string) => Promise<Reply>
  readonly out: NodeJS.WritableStream
}

/** Each command of `portico ctl`: makes its calls, writes what the user reads, resolves with the last reply. */
const commands: Record<string, (c: CtlContext) => Promise<Reply>> = {
  async servers({ call, out }) {
    const reply = await call('GET', '/pools')
    if (reply.status === 200) out.write(table(reply.body as PoolView[]))
    return reply
  },
  async drain(c) {
    const [pool, address] = need(c, 2)
    let reply = await c.call('POST', `${server(pool!, address!)}/drain`)
    if (reply.status === 200 && c.values.wait) {
      while (!(reply.body as ServerView).empty) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        reply = await c.call('GET', server(pool!, address!))
        if (reply.status !== 200) break
      }
    }
    return writeServer(c, reply, 200)
  },
  async enable(c) {
    const [pool, address] = need(c, 2)
    return writeServer(c, await c.call('POST', `${server(pool!, address!)}/enable`), 200)
  },
  async weight(c) {
    const [pool, address, weight] = need(c, 3)
    const body = JSON.stringify({ weight: Number(weight) })
    return writeServer(c, await c.call('PUT', `${server(pool!, address!)}/weight`, body), 200)
  },
  async add(c) {
    const [pool, address] = need(c, 2)
    const body = JSON.stringify({ address, weight: Number(c.values.weight ?? 1) })
    return writeServer(c, await c.call('POST', `/pools/${encodeURIComponent(pool!)}/servers`, body), 201)
  },
  async remove(c) {
    const [pool, address] = need(c, 2)
    const reply = await c.call('DELETE', `${server(pool!, address!)}?deadline_ms=${Number(c.values.deadline ?? 30000)}`)
    if (reply.status === 200)
      c.out.write(`removed${(reply.body as { drained: boolean }).drained ? '' : ' (not empty at the deadline)'}\n`)
    return reply
  },
  async reload(c) {
    need(c, 0)
    const reply = await c.call('POST', `/reload${c.values['dry-run'] ? '?dry_run=true' : ''}`)
    c.out.write(`${JSON.stringify(reply.body, null, 2)}\n`)
    return reply
  },
  async validate(c) {
    const [file] = need(c, 1)
    const reply = await c.call('POST', '/validate', readFileSync(file!, 'utf8'))
    for (const e of (reply.body as { errors?: string[] }).errors ?? []) c.out.write(`${e}\n`)
    if (reply.status === 200) c.out.write(`${file}: ok\n`)
    return reply
  },
  async changes({ call, out }) {
    const reply = await call('GET', '/config')
    out.write(`${JSON.stringify((reply.body as { changes?: unknown }).changes ?? [], null, 2)}\n`)
    return reply
  },
}

/** The command's arguments, which must be `n`; else throws the usage error. */
function need(c: CtlContext, n: number): readonly string[] {
  if (c.args.length !== n) throw new Error(`"${c.command}" takes ${n} argument${n === 1 ? '' : 's'}`)
  return c.args
}

/** The API path of one server of a pool. */
function server(pool: string, address: string): string {
  return `/pools/${encodeURIComponent(pool)}/servers/${encodeURIComponent(address)}`
}

/** Writes the server a reply describes, when its status is `expected`; returns the reply. */
function writeServer(c: CtlContext, reply: Reply, expected: number): Reply {
  if (reply.status === expected) c.out.write(`${line(reply.body as ServerView)}\n`)
  return reply
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      admin: { type: 'string' },
      token: { type: 'string' },
      ca: { type: 'string' },
      wait: { type: 'boolean' },
      weight: { type: 'string' },
      deadline: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  })
}

function send(base: string, method: string, path: string, body: string | undefined, token?: string, ca?: Buffer) {
  const url = new URL(path, base)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<Reply>((resolve, reject) => {
    const req = request(url, {
      method,
      ca,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
    })
    req.on('error', (e) => reject(new Error(`cannot reach the admin API at ${base}: ${e.message}`)))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let parsed: unknown = text
        try {
          parsed = JSON.parse(text)
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
    })
    req.end(body)
  })
}

function line(s: ServerView): string {
  const state = s.draining ? (s.empty ? 'drained' : 'draining') : s.out ? 'out' : 'in'
  const why = s.out && s.reason ? ` (${s.reason.source}: ${s.reason.detail}, since ${s.reason.since})` : ''
  return `${s.address}  ${state}  health=${s.health}  in_flight=${s.in_flight}  weight=${s.weight}${why}`
}

function table(pools: readonly PoolView[]): string {
  return pools
    .map(
      (p) =>
        `${p.name} (${p.balancer}, in flight ${p.in_flight}, queued ${p.queued})\n${p.servers.map((s) => `  ${line(s)}`).join('\n')}\n`,
    )
    .join('')
}
