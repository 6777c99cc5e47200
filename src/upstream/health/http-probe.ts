import { request } from 'node:http'
import type { Server } from '../server.ts'

/** What an HTTP check sends and accepts. */
export interface HttpProbeSettings {
  readonly method: string
  readonly path: string
  /** Host header; undefined sends the server's address. */
  readonly host: string | undefined
  /** Accepted status ranges, inclusive. */
  readonly statuses: readonly (readonly [number, number])[]
  /** A pattern the body must match; undefined accepts any body. */
  readonly body: RegExp | undefined
  /** Largest body read for `body`, in bytes. */
  readonly maxBodyBytes: number
}

/**
 * Sends one HTTP check to `server` on a fresh connection. Resolves with undefined when it passed,
 * or with why it failed (`status 503`, `ECONNREFUSED`, `timeout`, `body does not match`). Never rejects.
 */
export function httpProbe(server: Server, settings: HttpProbeSettings, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: server.host,
        port: server.port,
        method: settings.method,
        path: settings.path,
        headers: { host: settings.host ?? server.address, 'user-agent': 'portico-health-check' },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const status = res.statusCode ?? 0
        if (!settings.statuses.some(([lo, hi]) => status >= lo && status <= hi)) {
          res.destroy()
          resolve(`status ${status}`)
          return
        }
        if (!settings.body) {
          res.resume()
          res.on('end', () => resolve(undefined))
          res.on('error', () => resolve(undefined))
          return
        }
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (text.length < settings.maxBodyBytes) text = (text + chunk).slice(0, settings.maxBodyBytes)
        })
        res.on('end', () => resolve(settings.body!.test(text) ? undefined : 'body does not match'))
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
      },
    )
    req.on('timeout', () => {
      req.destroy()
      resolve('timeout')
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    req.end()
  })
}
