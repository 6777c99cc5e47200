import { createHash } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync } from 'node:fs'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ignore } from '../errors.ts'
import { type RequestHeaders, variantKey } from '../http/variant-key.ts'
import type { Entry } from './memory-store.ts'
import { ownBuffer } from './own-buffer.ts'

/** What the first line of an entry's file says: the entry without its body, and the body's checksum. */
interface Meta extends Omit<Entry, 'body'> {
  readonly key: string
  readonly url: string
  readonly bodyLength: number
  readonly sha256: string
}

/**
 * The first line of the file a varying URL's key names: the request headers its responses vary
 * on. Each variant has a file of its own, under the variant's key (variant-key.ts).
 */
interface VaryMeta {
  readonly key: string
  readonly url: string
  readonly variesOn: readonly string[]
  readonly tags: readonly string[]
}

/** What a worker knows of a file in the directory. */
interface Known {
  readonly size: number
  readonly url: string
  readonly tags: readonly string[]
}

// Enough to read an entry's first line (its head) when the index is rebuilt.
const headLimit = 256 * 1024

/**
 * The disk tier: one file per response in a directory bounded in bytes, shared by every worker.
 * A file is written whole under a temporary name and renamed into place, so a reader never sees
 * half of one; its first line is the head as JSON with the body's SHA-256, the body follows. The
 * index (name → size, URL, tags) is rebuilt from the directory at start, so entries survive a
 * restart; a file whose checksum or length does not match is removed when read. A response with
 * `Vary` is a file under its variant's key, and the URL's own key names a file that lists the
 * headers it varies on, so variants are matched on disk as in memory (RFC 9111 §4.1).
 */
export class DiskStore {
  readonly #dir: string
  readonly #maxBytes: number
  readonly #index = new Map<string, Known>()
  #bytes = 0

  constructor(dir: string, maxBytes: number) {
    this.#dir = dir
    this.#maxBytes = maxBytes
    mkdirSync(dir, { recursive: true })
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.tmp-')) {
        // A temporary file a minute old is one a stopped process left; a newer one may be another worker's write.
        const stats = statSync(join(dir, name), { throwIfNoEntry: false })
        if (stats && Date.now() - stats.mtimeMs > 60_000) remove(join(dir, name))
        continue
      }
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      const meta = readHead(join(dir, name))
      if (!meta) {
        remove(join(dir, name))
        continue
      }
      const stats = statSync(join(dir, name), { throwIfNoEntry: false })
      if (!stats) continue
      this.#remember(name, { size: stats.size, url: meta.url, tags: meta.tags })
    }
  }

  /**
   * The entry stored for `key` that matches the request headers `h`, 'vary-miss' when the key
   * varies and no variant matches, or undefined; a corrupt or truncated file is removed.
   */
  async get(key: string, h: RequestHeaders): Promise<Entry | 'vary-miss' | undefined> {
    const found = await this.#read(key)
    if (found === undefined || 'body' in found) return found
    const variant = await this.#read(variantKey(key, found.variesOn, h))
    return variant === undefined || !('body' in variant) ? 'vary-miss' : variant
  }

  async #read(key: string): Promise<Entry | VaryMeta | undefined> {
    const name = fileName(key)
    let data: Buffer
    try {
      data = await readFile(join(this.#dir, name))
    } catch {
      return undefined
    }
    const entry = parse(data, key)
    if (entry === undefined) {
      this.#forget(name)
      await unlink(join(this.#dir, name)).catch(ignore)
    }
    return entry
  }

  /**
   * Writes `entry` for `key`, as the answer to the request headers `h`: a temporary file renamed
   * into place; then drops the oldest files past the bound. A varying entry is written under its
   * variant's key, after the file that says what `key` varies on.
   */
  async set(key: string, url: string, entry: Entry, h: RequestHeaders): Promise<void> {
    if (entry.vary.length === 0) return this.#write(key, url, entry)
    const spec: VaryMeta = { key, url, variesOn: entry.vary, tags: [] }
    await this.#write(key, url, spec)
    await this.#write(variantKey(key, entry.vary, h), url, entry)
  }

  async #write(key: string, url: string, entry: Entry | VaryMeta): Promise<void> {
    const name = fileName(key)
    let data: Buffer
    if ('body' in entry) {
      const { body, ...head } = entry
      const meta: Meta = {
        ...head,
        key,
        url,
        bodyLength: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      }
      data = Buffer.concat([Buffer.from(`${JSON.stringify(meta)}\n`), body])
    } else data = Buffer.from(`${JSON.stringify(entry)}\n`)
    const temp = join(this.#dir, `.tmp-${process.pid}-${name}-${Math.random().toString(36).slice(2)}`)
    try {
      await writeFile(temp, data)
      await rename(temp, join(this.#dir, name))
    } catch {
      await unlink(temp).catch(ignore)
      return
    }
    this.#remember(name, { size: data.length, url, tags: entry.tags })
    if (this.#bytes > this.#maxBytes) this.#evict()
  }

  /** Removes every file this worker knows whose URL and tags `test` accepts; returns how many. */
  delete(test: (url: string, tags: readonly string[]) => boolean): number {
    let n = 0
    for (const [name, known] of [...this.#index]) {
      if (!test(known.url, known.tags)) continue
      this.#forget(name)
      remove(join(this.#dir, name))
      n++
    }
    return n
  }

  /** Bytes of the files this worker knows. */
  get bytes(): number {
    return this.#bytes
  }

  #remember(name: string, known: Known): void {
    this.#forget(name)
    this.#index.set(name, known)
    this.#bytes += known.size
  }

  #forget(name: string): void {
    const known = this.#index.get(name)
    if (!known) return
    this.#index.delete(name)
    this.#bytes -= known.size
  }

  /**
   * Brings the directory under its bound: every worker writes there, so the whole directory is
   * read again, and the files least recently written go first until 90% of the bound is left.
   */
  #evict(): void {
    const files: { name: string; size: number; mtime: number }[] = []
    let total = 0
    for (const name of readdirSync(this.#dir)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      const stats = statSync(join(this.#dir, name), { throwIfNoEntry: false })
      if (!stats) continue
      files.push({ name, size: stats.size, mtime: stats.mtimeMs })
      total += stats.size
    }
    files.sort((a, b) => a.mtime - b.mtime)
    const target = this.#maxBytes * 0.9
    for (const f of files) {
      if (total <= target) break
      remove(join(this.#dir, f.name))
      this.#forget(f.name)
      total -= f.size
    }
  }
}

function fileName(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** The entry in a file's bytes, or undefined when they are not a whole, intact entry for `key`. */
function parse(data: Buffer, key: string): Entry | VaryMeta | undefined {
  const newline = data.indexOf(10)
  if (newline < 0) return undefined
  let meta: Meta | VaryMeta
  try {
    meta = JSON.parse(data.subarray(0, newline).toString()) as Meta | VaryMeta
  } catch {
    return undefined
  }
  const body = data.subarray(newline + 1)
  if (meta.key !== key) return undefined
  if ('variesOn' in meta) return Array.isArray(meta.variesOn) && body.length === 0 ? meta : undefined
  if (body.length !== meta.bodyLength) return undefined
  if (createHash('sha256').update(body).digest('hex') !== meta.sha256) return undefined
  const { key: _key, url: _url, bodyLength: _length, sha256: _sum, ...entry } = meta
  return { ...entry, body: ownBuffer([body], body.length) }
}

/** The head of the file at `path`, read from its first line only; undefined when it has none. */
function readHead(path: string): Meta | VaryMeta | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const buffer = Buffer.alloc(headLimit)
    const n = readSync(fd, buffer, 0, headLimit, 0)
    const newline = buffer.subarray(0, n).indexOf(10)
    if (newline < 0) return undefined
    return JSON.parse(buffer.subarray(0, newline).toString()) as Meta | VaryMeta
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path)
  } catch {}
}
