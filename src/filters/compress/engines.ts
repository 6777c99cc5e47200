import type { BrotliCompress, Gzip, ZlibReset, ZstdCompress } from 'node:zlib'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { Coding } from './schema.ts'

/** A coder of one coding and level, and the flush flags its `flush()` takes. */
export interface Engine {
  readonly coding: Coding
  readonly stream: Gzip | BrotliCompress | ZstdCompress
  /** Whether it goes back to the pool when its body is done (`reset()` restarts it whole). */
  readonly reusable: boolean
  /** The flush that empties the coder's buffer and keeps its state (gzip's sync flush, not its full one). */
  readonly flushKind: number | undefined
  /** The flush that ends the body of a reusable coder, which is then reset for the next one. */
  readonly finishKind: number
  /** Whoever gets its output and errors now. */
  owner: EngineOwner | undefined
  /** The pool it returns to. */
  readonly free: Engine[]
}

/** What an engine's output and errors go to while a body is being coded. */
export interface EngineOwner {
  output(chunk: Buffer): void
  failed(err: Error): void
}

// Idle coders kept: a gzip coder holds about 256 KiB of zlib state, a Brotli one up to about three times
// its size hint, so few are kept. A closed loop of requests finds the coder the last response gave back.
const keptGzip = 8
const keptBrotli = 4
const pools = new Map<string, Engine[]>()
let idleBrotli = 0
// Brotli coders are reused for bodies of known length up to this size, grouped by the power of two above it.
const largestPooledHint = 1 << 20

/**
 * A coder for one body, owned by `owner` until it is given back. Coders are taken from a pool of
 * their kind, so that the coder's state is not allocated (and collected) per response: gzip by
 * level, Brotli by quality and the power of two at or above the body's length, which is the size
 * hint it is made with (a hint tunes the coder, whatever the length turns out to be). Brotli for
 * bodies of unknown or large length, and zstd, get a coder of their own.
 */
export function takeEngine(coding: Coding, level: number, sizeHint: number | undefined, owner: EngineOwner): Engine {
  const hint = coding === 'br' && sizeHint !== undefined && sizeHint <= largestPooledHint ? bucket(sizeHint) : undefined
  const reusable = coding === 'gzip' || hint !== undefined
  let engine: Engine | undefined
  let free: Engine[] = []
  if (reusable) {
    const key = `${coding}:${level}:${hint ?? ''}`
    free = pools.get(key) ?? []
    if (free.length === 0) pools.set(key, free)
    engine = free.pop()
    if (engine && coding === 'br') idleBrotli--
  }
  engine ??= makeEngine(coding, level, hint ?? sizeHint, reusable, free)
  engine.owner = owner
  return engine
}

/** The power of two at or above `size`, at least 1 KiB. */
function bucket(size: number): number {
  let b = 1024
  while (b < size) b *= 2
  return b
}

/** Ends the body: the finishing output goes to the owner, then `done`; a gzip coder goes back to its pool. */
export function finishEngine(engine: Engine, done: () => void): void {
  if (!engine.reusable) {
    engine.stream.once('end', () => {
      engine.owner = undefined
      done()
    })
    engine.stream.end()
    return
  }
  engine.stream.flush(engine.finishKind, () => {
    engine.owner = undefined
    const brotli = engine.coding === 'br'
    const room = brotli ? idleBrotli < keptBrotli : engine.free.length < keptGzip
    if (!engine.stream.destroyed && room) {
      ;(engine.stream as Gzip & ZlibReset).reset()
      engine.free.push(engine)
      if (brotli) idleBrotli++
    } else engine.stream.destroy()
    done()
  })
}

/** Drops a coder whose body was not finished: it is not reused. */
export function dropEngine(engine: Engine): void {
  engine.owner = undefined
  engine.stream.destroy()
}

function makeEngine(
  coding: Coding,
  level: number,
  sizeHint: number | undefined,
  reusable: boolean,
  free: Engine[],
): Engine {
  const { constants, createBrotliCompress, createGzip, createZstdCompress } = lazyBuiltin('node:zlib')
  let stream: Gzip | BrotliCompress | ZstdCompress
  let flushKind: number | undefined
  let finishKind = 0
  if (coding === 'gzip') {
    stream = createGzip({ level })
    // gzip's default flush resets the dictionary; a sync flush keeps it, so the ratio holds.
    flushKind = constants.Z_SYNC_FLUSH
    finishKind = constants.Z_FINISH
  } else if (coding === 'br') {
    const params: Record<number, number> = { [constants.BROTLI_PARAM_QUALITY]: level }
    if (sizeHint !== undefined) params[constants.BROTLI_PARAM_SIZE_HINT] = sizeHint
    stream = createBrotliCompress({ params })
    finishKind = constants.BROTLI_OPERATION_FINISH
  } else stream = createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } })
  const engine: Engine = { coding, stream, reusable, flushKind, finishKind, owner: undefined, free }
  stream.on('data', (chunk: Buffer) => engine.owner?.output(chunk))
  stream.on('error', (err: Error) => {
    const owner = engine.owner
    engine.owner = undefined
    owner?.failed(err)
  })
  return engine
}
