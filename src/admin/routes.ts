import type { IncomingMessage, ServerResponse } from 'node:http'

/** One call to the admin API, as a handler sees it. */
export interface AdminCall {
  readonly req: IncomingMessage
  /** The path's `{name}` parts, decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** The request body as text ('' when none). */
  readonly body: string
  /** The name of the token the caller presented; `local` on a loopback listener without tokens. */
  readonly who: string
}

/**
 * A handler's answer: JSON unless `type` says otherwise (then `body` is the text sent). With
 * `stream`, the head is sent without a length and `stream` writes the body for as long as it
 * likes (server-sent events); it must stop when the response closes.
 */
export interface AdminAnswer {
  readonly status: number
  readonly body: unknown
  readonly type?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly stream?: (res: ServerResponse) => void
}

/** One entry of the admin route table: method, path with `{name}` parts, and its handler. */
export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** `/pools/{pool}/servers/{server}`: a `{name}` matches one path segment. */
  readonly path: string
  readonly handler: (call: AdminCall) => Promise<AdminAnswer> | AdminAnswer
  /** Answered without a token: only the API's description is. */
  readonly open?: boolean
}

/**
 * The admin listener's routes. Other features add theirs with `add` before the listener starts
 * (the Prometheus scrape adds `GET /metrics` here).
 */
export class AdminRoutes {
  readonly #routes: { route: AdminRoute; pattern: RegExp; names: string[] }[] = []

  /** Every route, in the order added. */
  get all(): readonly AdminRoute[] {
    return this.#routes.map((r) => r.route)
  }

  add(route: AdminRoute): this {
    const names: string[] = []
    const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name)
      return '([^/]+)'
    })
    this.#routes.push({ route, pattern: new RegExp(`^${source}$`), names })
    return this
  }

  /** The route for `method` and `path` with its parameters; `allowed` lists the methods the path has when none matches. */
  find(method: string, path: string): { route?: AdminRoute; params: Record<string, string>; allowed: string[] } {
    const allowed: string[] = []
    for (const { route, pattern, names } of this.#routes) {
      const m = pattern.exec(path)
      if (!m) continue
      if (route.method !== method) {
        allowed.push(route.method)
        continue
      }
      const params: Record<string, string> = {}
      names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]!)
      })
      return { route, params, allowed }
    }
    return { params: {}, allowed }
  }
}
