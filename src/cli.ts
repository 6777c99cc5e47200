#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2 --scavenger-max-new-space-capacity-mb=2 --external-memory-accounted-in-global-limit --heap-growing-percent=100
// Memory for streaming: a small young generation (2 MiB semi-spaces, the whole new space capped at that) is
// collected often, which frees socket buffers soon after use, and a fixed malloc mmap threshold keeps large
// allocations from fragmenting the heap. Socket buffers (external memory) count toward the heap's limits, so a full
// collection frees those that outlived the young generation before they pile up. Not smaller: at 1 MiB the young
// collections came so often that buffers still in flight (a 100 KiB response to a slow client) lived through two of
// them and were promoted, to wait for a full collection. The heap (with those buffers) may grow to twice what the
// last full collection left, where V8 would let it grow to four times: HTTP/2 over TLS left 25-30 MB of garbage in the
// old generation, which the next scenarios' buffers came on top of. The constraint: peak RSS under 150 MB, for a 1 GiB stream
// (test/e2e/streaming.test.ts) as for the bench's scenarios in turn (the measurements are in docs/PERFORMANCE.md).
// These are the flags a Portico process starts with: workers and the config checker inherit them, and `npm start`,
// the tests, the bench and the single executable's build (packaging/sea/) read them here. At run time only
// process/idle-memory.ts changes V8 flags (memory saver mode while idle).
import { reduceMemoryWhenIdle } from './process/idle-memory.ts'

// An ESM import of node:http reads every export, and its lazy WebSocket, CloseEvent and MessageEvent load node's own
// copy of undici (nodejs/node#59686; its size is in docs/PERFORMANCE.md). Left out of the enumeration they stay lazy, and
// `http.WebSocket` still works. The commands import node:http, so they are loaded after this.
const http = process.getBuiltinModule('node:http')
for (const name of ['WebSocket', 'CloseEvent', 'MessageEvent']) Object.defineProperty(http, name, { enumerable: false })

reduceMemoryWhenIdle()
const { main } = await import('./commands.ts')
process.exitCode = await main(process.argv.slice(2))
