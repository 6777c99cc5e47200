import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nginxConfig } from './contenders.ts'
import { jsonBody } from './json-body.ts'
import { freePort, installed, type Started, start } from './spawn.ts'

/** The running origins: HTTP (nginx serving from memory when installed, else node) and the WebSocket echo (node). */
export interface Origins {
  readonly http: Started
  readonly ws: Started
  /** What serves HTTP: `nginx` or `node`. */
  readonly kind: 'nginx' | 'node'
  stop(): Promise<void>
}

/**
 * Starts the origins on `cpus`. nginx, unless `preferNginx` is false, is the faster HTTP origin by far (C, no allocation per
 * request), so it is used when installed and the node origin is never the bottleneck of the
 * fastest proxies; the node origin answers the same paths where nginx is not there.
 */
export async function startOrigins(dir: string, cpus: string | undefined, preferNginx: boolean): Promise<Origins> {
  const script = new URL('./origin.ts', import.meta.url).pathname
  const ws = await start(cpus, process.execPath, [script], (out) => {
    const m = /\{"port":(\d+)\}/.exec(out)
    return m ? Number(m[1]) : undefined
  })
  const binary = preferNginx ? installed('nginx') : undefined
  if (!binary) return { http: ws, ws, kind: 'node', stop: () => ws.stop() }
  const port = await freePort()
  const big = join(dir, '100k')
  writeFileSync(big, Buffer.alloc(100 * 1024, 'b'))
  const json = join(dir, 'json')
  writeFileSync(json, jsonBody(100 * 1024))
  const server = `    default_type text/plain;
    location = /1k { return 200 "${'a'.repeat(1024)}"; }
    location = /100k { alias ${big}; }
    location = /json { default_type application/json; alias ${json}; }
    location = /post { return 200 "ok\\n"; }
    location = /c/1k { add_header Cache-Control "max-age=3600"; return 200 "${'a'.repeat(1024)}"; }
    location = /c/100k { add_header Cache-Control "max-age=3600"; alias ${big}; }`
  const conf = join(dir, 'nginx-origin.conf')
  writeFileSync(conf, nginxConfig(join(dir, 'nginx-origin'), port, 'sendfile on;', server))
  const http = await start(cpus, binary, ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'nginx-origin.err')], port)
  return {
    http,
    ws,
    kind: 'nginx',
    stop: async () => {
      await http.stop()
      await ws.stop()
    },
  }
}
