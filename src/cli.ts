#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=1 --scavenger-max-new-space-capacity-mb=1 --external-memory-accounted-in-global-limit
// Memory for streaming: a small young generation is collected often, which frees socket buffers soon after use,
// and a fixed malloc mmap threshold keeps large allocations from fragmenting the heap. Socket buffers (external
// memory) count toward the heap's limits, so a full collection frees those that outlived the young generation
// before they pile up. Portico's own HTTP/1.1 server makes little garbage per chunk, so small semi-spaces alone
// let buffers wait long for a collection: the whole new space is capped too. The constraint: a 1 GiB stream stays
// under 150 MB of RSS (test/e2e/streaming.test.ts; the measurements are in docs/PERFORMANCE.md).
// These are the flags a Portico process starts with: workers and the config checker inherit them, and `npm start`,
// the tests and the bench read them here. At run time only process/idle-memory.ts changes V8 flags (memory saver
// mode while idle).
import { reduceMemoryWhenIdle } from './process/idle-memory.ts'

// An ESM import of node:http reads every export, and its lazy WebSocket, CloseEvent and MessageEvent load node's own
// copy of undici (nodejs/node#59686; its size is in docs/PERFORMANCE.md). Left out of the enumeration they stay lazy, and
// `http.WebSocket` still works. The commands import node:http, so they are loaded after this.
const http = process.getBuiltinModule('node:http')
for (const name of ['WebSocket', 'CloseEvent', 'MessageEvent']) Object.defineProperty(http, name, { enumerable: false })

reduceMemoryWhenIdle()
await import('./commands.ts')
