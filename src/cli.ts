#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --single-threaded --scavenger-max-new-space-capacity-mb=1 --external-memory-accounted-in-global-limit
// One thread for V8: each Portico process serves from one core (`workers` runs one per core), so V8's background
// threads for compiling and collecting only take turns with it, and each kept its own malloc arena: 7 MB of RSS
// after a load, for no throughput.
// Memory for streaming: a young generation of at most 1 MiB is collected often, which frees socket buffers soon
// after use, and a fixed malloc mmap threshold keeps large allocations from fragmenting the heap. Socket buffers
// (external memory) count toward the heap's limits, so a full collection frees those that outlived the young
// generation before they pile up. A 1 GiB stream then peaks under 80 MB RSS when Portico's own HTTP/1.1 server
// sends it, which makes little garbage per chunk and so would otherwise see few collections.
// These flags are the only place Portico's node flags are set: `npm start`, the tests and the bench read them here.
import { reduceMemoryWhenIdle } from './cluster/idle-memory.ts'

// An ESM import of node:http reads every export, and its lazy WebSocket, CloseEvent and MessageEvent load node's own
// copy of undici (about 14 MB resident; nodejs/node#59686). Left out of the enumeration they stay lazy, and
// `http.WebSocket` still works. The commands import node:http, so they are loaded after this.
const http = process.getBuiltinModule('node:http')
for (const name of ['WebSocket', 'CloseEvent', 'MessageEvent']) Object.defineProperty(http, name, { enumerable: false })

reduceMemoryWhenIdle()
await import('./commands.ts')
