import type { SecureServerOptions, ServerOptions } from 'node:http2'
import type { Http2Config } from './schema.ts'

/**
 * The node:http2 server options for a listener's HTTP/2 limits. Request headers are parsed into
 * the same size budget HTTP/1.1 gets; flood and abuse counters close the connection when exceeded.
 */
export function h2Options(config: Http2Config): ServerOptions & SecureServerOptions {
  return {
    settings: {
      maxConcurrentStreams: config.max_concurrent_streams,
      maxHeaderListSize: config.max_header_list_size,
      // Server push is deprecated by browsers and never useful to a proxy (RFC 9113 §8.4).
      enablePush: false,
    },
    // The count node:http allows; max_header_list_size bounds the memory.
    maxHeaderListPairs: 2000,
    maxSessionInvalidFrames: config.max_invalid_frames,
    maxSessionRejectedStreams: config.max_rejected_streams,
    maxSettings: config.max_settings,
    // nghttp2's own reset limit (default a burst of 1000) answers with a graceful GOAWAY that lets the
    // streams already read go on; it stays above Portico's guard (reset-guard.ts), which acts first.
    streamResetBurst: config.max_reset_burst * 2 + 100,
    streamResetRate: config.max_resets_per_second * 2,
  }
}
