import { realpathSync, type Stats } from 'node:fs'
import { type FileHandle, open, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream'
import { localReply, respondError, startReply } from '../../../answer/respond.ts'
import type { Exchange } from '../../../exchange.ts'
import { parseRange } from '../../../http/range.ts'
import type { Rewrite } from '../../rewrite.ts'
import type { RouteConfig } from '../../schema.ts'
import type { Action } from '../action.ts'
import { mimeType } from './mime.ts'
import { safeSegments } from './safe-segments.ts'

/**
 * Serves files from a directory: GET and HEAD only, Content-Type by extension, a strong ETag and
 * Last-Modified with 304 answers to If-None-Match and If-Modified-Since, single byte ranges
 * (206, 416, If-Range), index files for directories and a redirect to add the slash a directory
 * path lacks. A request never leaves the root: see safeSegments, and symbolic links give 404
 * unless `follow_symlinks`. No directory listings.
 */
export function serveStatic(config: NonNullable<RouteConfig['static']>, rewrite: Rewrite | undefined): Action {
  const site: Site = {
    root: realpathSync(config.root),
    index: config.index,
    followSymlinks: config.follow_symlinks,
    dotfiles: config.dotfiles,
  }
  return {
    run(x: Exchange) {
      // The slash a directory lacks is added to the path the client asked for, prefix included.
      const asked = x.path
      if (rewrite) x.path = rewrite(x.path, x.paths.ignoreCase)
      const method = x.req.method
      if (method !== 'GET' && method !== 'HEAD')
        return void respondError(x, 'method_not_allowed', { allow: 'GET, HEAD' })
      const segments = safeSegments(x.path, site.dotfiles)
      if (segments === undefined) return void respondError(x, 'not_found')
      serve(x, site, segments, asked).catch((err: NodeJS.ErrnoException) =>
        respondError(x, missing.has(err.code ?? '') ? 'not_found' : 'proxy_error'),
      )
      return undefined
    },
  }
}

interface Site {
  readonly root: string
  readonly index: readonly string[]
  readonly followSymlinks: boolean
  readonly dotfiles: boolean
}

// Errors that mean "no such file here"; any other is Portico's own failure.
const missing = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'ELOOP', 'ENAMETOOLONG', 'EISDIR'])

/** Serves the file at `segments`; `asked` is the client's path and query, before any rewrite. */
async function serve(x: Exchange, site: Site, segments: string[], asked: string): Promise<void> {
  let file = join(site.root, ...segments)
  let found = await openFile(file, site)
  if (found.stats.isDirectory()) {
    await found.handle.close()
    const q = x.path.indexOf('?')
    const path = q < 0 ? x.path : x.path.slice(0, q)
    if (!path.endsWith('/')) {
      const a = asked.indexOf('?')
      const askedPath = a < 0 ? asked : asked.slice(0, a)
      // A rewrite that took the slash away: adding one would only ask for the same path again.
      if (askedPath.endsWith('/')) return respondError(x, 'not_found')
      const location = a < 0 ? `${asked}/` : `${askedPath}/${asked.slice(a)}`
      return localReply(
        x,
        301,
        ['location', location, 'content-type', 'text/plain; charset=utf-8'],
        `Moved to ${location}\n`,
      )
    }
    const index = await openIndex(file, site)
    if (!index) return respondError(x, 'not_found')
    ;({ file, found } = index)
  }
  if (!found.stats.isFile()) {
    await found.handle.close()
    return respondError(x, 'not_found')
  }
  send(x, file, found)
}

interface OpenFile {
  readonly handle: FileHandle
  readonly stats: Stats
}

async function openFile(file: string, site: Site): Promise<OpenFile> {
  // The real path differs from the joined one exactly when a link is on the way.
  if (!site.followSymlinks && (await realpath(file)) !== file)
    throw Object.assign(new Error('symbolic link'), { code: 'ELOOP' })
  const handle = await open(file, 'r')
  try {
    return { handle, stats: await handle.stat() }
  } catch (err) {
    await handle.close()
    throw err
  }
}

async function openIndex(dir: string, site: Site): Promise<{ file: string; found: OpenFile } | undefined> {
  for (const name of site.index) {
    const file = join(dir, name)
    try {
      const found = await openFile(file, site)
      if (found.stats.isFile()) return { file, found }
      await found.handle.close()
    } catch (err) {
      if (!missing.has((err as NodeJS.ErrnoException).code ?? '')) throw err
    }
  }
  return undefined
}

function send(x: Exchange, file: string, { handle, stats }: OpenFile): void {
  const h = x.req.headers
  const etag = `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`
  const lastModified = stats.mtime.toUTCString()
  const headers = [
    'content-type',
    mimeType(file),
    'etag',
    etag,
    'last-modified',
    lastModified,
    'accept-ranges',
    'bytes',
  ]
  if (notModified(h['if-none-match'], h['if-modified-since'], etag, stats.mtimeMs)) {
    void handle.close()
    startReply(x, 304, headers).end()
    return
  }
  let start = 0
  let end = stats.size - 1
  let status = 200
  const rangeHeader = h.range
  if (
    typeof rangeHeader === 'string' &&
    x.req.method === 'GET' &&
    ifRangeHolds(single(h['if-range']), etag, lastModified)
  ) {
    const range = parseRange(rangeHeader, stats.size)
    if (range === 'unsatisfiable') {
      void handle.close()
      respondError(x, 'range_not_satisfiable', { 'content-range': `bytes */${stats.size}` })
      return
    }
    if (range) {
      ;({ start, end } = range)
      status = 206
      headers.push('content-range', `bytes ${start}-${end}/${stats.size}`)
    }
  }
  const length = end - start + 1
  headers.push('content-length', String(length))
  const out = startReply(x, status, headers)
  if (x.req.method === 'HEAD' || length === 0) {
    void handle.close()
    out.end()
    return
  }
  const stream = handle.createReadStream({ start, end })
  pipeline(stream, out, () => {
    // Through response transforms, the bytes that come out of them count instead.
    if (out === x.responseStream) x.bytesOut += stream.bytesRead
  })
}

/** RFC 9110 §13.1.2 and §13.1.3: If-None-Match (weak comparison) wins; If-Modified-Since only without it. */
function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string,
  mtimeMs: number,
): boolean {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true
    for (const tag of ifNoneMatch.split(',')) {
      const t = tag.trim()
      if ((t.startsWith('W/') ? t.slice(2) : t) === etag) return true
    }
    return false
  }
  if (ifModifiedSince === undefined) return false
  const since = Date.parse(ifModifiedSince)
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since
}

/** RFC 9110 §13.1.5: a Range applies only if If-Range is absent or names the current ETag (strong) or date. */
function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true
  const value = ifRange.trim()
  return value === etag || value === lastModified
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
