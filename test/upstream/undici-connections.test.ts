import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'

const scenario = new URL('../helpers/h2-echo-abort.ts', import.meta.url).pathname

/** Runs the scenario in a child process, which a freeze cannot take the test runner down with. */
function runScenario(): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [scenario], { timeout: 60_000 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null
      resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, output: stdout + stderr })
    })
  })
}

test('a client that leaves during the echo of its large upload to an HTTP/2 backend leaves the event loop running (#21)', {
  timeout: 90_000,
  // node's HTTP/2 client (24.21 and 26.10 alike) loops on empty DATA frames when a stream is
  // destroyed while its request body waits on flow control; Portico does not yet keep clear of it.
  todo: 'node http2 client loops on a stream destroyed with its body queued',
}, async () => {
  const run = await runScenario()
  assert.doesNotMatch(run.output, /event loop stalled/)
  assert.match(run.output, /rounds done/)
  assert.equal(run.code, 0)
})
