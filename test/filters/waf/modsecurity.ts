import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../helpers/free-port.ts'

const moduleDir = '/usr/share/nginx/modules'
export const crsDir = '/usr/share/modsecurity-crs/rules'

/** Why ModSecurity cannot run here, or undefined when nginx, its module and the rule set are installed. */
export function modsecurityMissing(): string | undefined {
  for (const path of ['/usr/sbin/nginx', join(moduleDir, 'ngx_http_modsecurity_module.so'), crsDir])
    if (!existsSync(path))
      return `${path} is not installed (apt-get install nginx libnginx-mod-http-modsecurity modsecurity-crs)`
  return undefined
}

/** A running nginx with ModSecurity v3 and the Core Rule Set: one port per paranoia level. */
export interface Reference {
  readonly ports: ReadonlyMap<number, number>
  /**
   * For a paranoia level, the ids of the rules ModSecurity matched on each request sent to it, by
   * the client port the request came from (its audit log); call after the requests are answered.
   */
  ruleIds(level: number): Map<number, number[]>
  stop(): Promise<void>
}

/**
 * Starts nginx with ModSecurity on ephemeral ports, in stock CRS anomaly-scoring mode (the
 * `block` action passes and scores; rule 949110 denies at the threshold), JSON bodies parsed.
 */
export async function startReference(levels: readonly number[]): Promise<Reference> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-modsec-'))
  // nginx's worker runs as an unprivileged user: it must read the page it serves.
  chmodSync(dir, 0o755)
  mkdirSync(join(dir, 'www'))
  writeFileSync(join(dir, 'www', 'ok.txt'), 'ok\n')
  const ports = new Map<number, number>()
  const servers: string[] = []
  for (const level of levels) {
    const port = await freePort()
    ports.set(level, port)
    const rules = join(dir, `modsec-pl${level}.conf`)
    writeFileSync(
      rules,
      [
        'SecRuleEngine On',
        'SecRequestBodyAccess On',
        'SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"',
        'SecRequestBodyLimit 13107200',
        'SecRequestBodyNoFilesLimit 131072',
        'SecRequestBodyLimitAction ProcessPartial',
        'SecPcreMatchLimit 100000',
        'SecPcreMatchLimitRecursion 100000',
        'SecResponseBodyAccess Off',
        'SecAuditEngine On',
        'SecAuditLogParts AHZ',
        'SecAuditLogType Serial',
        `SecAuditLog ${join(dir, `audit-pl${level}.log`)}`,
        'SecArgumentSeparator &',
        'SecCookieFormat 0',
        'SecDefaultAction "phase:1,log,auditlog,pass"',
        'SecDefaultAction "phase:2,log,auditlog,pass"',
        `SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=${level}"`,
        'SecAction "id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334"',
        `Include ${crsDir}/REQUEST-*.conf`,
      ].join('\n'),
    )
    servers.push(`server { listen 127.0.0.1:${port}; modsecurity on; modsecurity_rules_file ${rules};
      location / { root ${dir}/www; try_files /ok.txt =404; } }`)
  }
  const log = join(dir, 'error.log')
  writeFileSync(
    join(dir, 'nginx.conf'),
    `load_module ${moduleDir}/ndk_http_module.so;
load_module ${moduleDir}/ngx_http_modsecurity_module.so;
daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${log} warn;
events { worker_connections 256; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  client_max_body_size 10m; ${servers.join('\n')} }`,
  )
  const child = spawn('/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' })
  // Ready when every port answers.
  for (const port of ports.values()) {
    for (let i = 0; ; i++) {
      if (
        (await send(port, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).then(
          (r) => r.status,
          () => 0,
        )) > 0
      )
        break
      if (i > 300) throw new Error('nginx with ModSecurity did not start')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return {
    ports,
    ruleIds(level) {
      const out = new Map<number, number[]>()
      for (const entry of entries(join(dir, `audit-pl${level}.log`))) {
        const port = Number(/^\s*\[[^\]]+\] \S+ \S+ (\d+)/.exec(entry)?.[1])
        out.set(port, [...new Set([...entry.matchAll(/\[id "(\d+)"\]/g)].map((m) => Number(m[1])))])
      }
      return out
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function entries(file: string): string[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'latin1')
    .split(/^---\w+---A--$/m)
    .slice(1)
}

/** Sends raw request bytes on a fresh connection; returns the response status and the client port. */
export function send(port: number, bytes: Buffer): Promise<{ status: number; clientPort: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let got = ''
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')))
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got)
      if (m && got.includes('\r\n\r\n')) {
        const clientPort = socket.localPort ?? 0
        socket.destroy()
        resolve({ status: Number(m[1]), clientPort })
      }
    })
    socket.on('error', reject)
    socket.on('close', () => reject(new Error(`closed before a status: ${JSON.stringify(got.slice(0, 80))}`)))
    socket.write(bytes)
  })
}
