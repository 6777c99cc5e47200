import type { BrotliCompress, Gzip, ZlibReset, ZstdCompress } from 'node:zlib'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { Coding } from './schema.ts'

/** A coder of one coding and level, and the flush flags its `flush()` takes. */
export interface Engine {
  readonly stream: Gzip | BrotliCompress | ZstdCompress
  /** Whether it goes back to the pool when its body is done (gzip: `reset()` restarts it whole). */
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

// Idle gzip coders kept per level: each holds about 256 KiB of zlib state, so the pool is small.
const keptPerLevel = 8
const pools = new Map<string, Engine[]>()

/**
 * A coder for one body, owned by `owner` until it is given back. A gzip coder is taken from a
 * pool of coders of its level, so that zlib's state is not allocated (and collected) per response;
 * Brotli and zstd coders are made per body: their size hint and window differ per body, and a
 * Brotli coder's `reset()` costs far more than a new coder.
 */
export function takeEngine(coding: Coding, level: number, sizeHint: number | undefined, owner: EngineOwner): Engine {
  const key = `${coding}:${level}`
  let free = pools.get(key)
  if (!free) pools.set(key, (free = []))
  const engine = (coding === 'gzip' ? free.pop() : undefined) ?? makeEngine(coding, level, sizeHint, free)
  engine.owner = owner
  return engine
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
    if (!engine.stream.destroyed && engine.free.length < keptPerLevel) {
      ;(engine.stream as Gzip & ZlibReset).reset()
      engine.free.push(engine)
    } else engine.stream.destroy()
    done()
  })
}

/** Drops a coder whose body was not finished: it is not reused. */
export function dropEngine(engine: Engine): void {
  engine.owner = undefined
  engine.stream.destroy()
}

function makeEngine(coding: Coding, level: number, sizeHint: number | undefined, free: Engine[]): Engine {
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
  } else stream = createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } })
  const engine: Engine = { stream, reusable: coding === 'gzip', flushKind, finishKind, owner: undefined, free }
  stream.on('data', (chunk: Buffer) => engine.owner?.output(chunk))
  stream.on('error', (err: Error) => {
    const owner = engine.owner
    engine.owner = undefined
    owner?.failed(err)
  })
  return engine
}
