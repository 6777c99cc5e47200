import type { Duplex } from 'node:stream'
import type { Exchange } from '../../exchange.ts'
import type { ResponsePhase, RoutePhaseFactory } from '../phase.ts'
import { requestBuffer } from './request-buffer.ts'
import type { BufferingConfig } from './schema.ts'
import { type BufferLimits, BufferStream } from './stream.ts'

/**
 * Buffering for routes with a `buffering:` block: request bodies read whole before a server is
 * chosen, and responses read at the backend's pace and fed to the client at its own.
 */
export const buffer: RoutePhaseFactory<BufferSlice> = {
  request({ buffering, maxBodyBytes }) {
    const config = buffering?.request
    if (!config?.enabled) return undefined
    return requestBuffer({
      memoryBytes: config.memory,
      maxBytes: Math.min(maxBodyBytes, Math.max(config.memory, config.disk)),
      dir: buffering!.temp_dir,
    })
  },
  response({ buffering }) {
    const config = buffering?.response
    if (!config?.enabled) return undefined
    return new BufferPhase({ memoryBytes: config.memory, diskBytes: config.disk, dir: buffering!.temp_dir })
  },
}

/** What buffering reads of a route: its `buffering:` block, and `max_body_bytes`, which caps a body kept whole. */
export interface BufferSlice {
  readonly buffering: BufferingConfig | undefined
  readonly maxBodyBytes: number
}

/** The response phase: every response with a body flows through a BufferStream. */
class BufferPhase implements ResponsePhase {
  readonly #limits: BufferLimits

  constructor(limits: BufferLimits) {
    this.#limits = limits
  }

  onResponse(x: Exchange, status: number): Duplex | undefined {
    // RFC 9110 §6.4.1: these have no body to hold.
    if (x.req.method === 'HEAD' || status < 200 || status === 204 || status === 304) return undefined
    x.responseBuffered = true
    return new BufferStream(x, this.#limits)
  }
}
