import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'

const scenario = new URL('../helpers/h2-echo-abort.ts', import.meta.url).pathname

/**
 * Runs the scenario (`mode` as its argument) in a child process, which a frozen event loop cannot
 * take the test runner down with, and checks that every round ended with its loop still turning.
 */
async function assertLoopRuns(mode: string[]): Promise<string> {
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, [scenario, ...mode], { timeout: 60_000 }, (_err, stdout, stderr) =>
      resolve(stdout + stderr),
    )
  })
  assert.doesNotMatch(output, /event loop stalled/)
  assert.match(output, /rounds done/)
  return output
}

test('a client that leaves during the echo of its large upload to an HTTP/2 backend leaves the event loop running (#21)', {
  timeout: 90_000,
}, async () => {
  const output = await assertLoopRuns([])
  // The backend learns that each request was given up: its stream is reset with CANCEL (8).
  assert.match(output, /backend streams reset: 8,8,8\n/)
})

test('an HTTP/2 client that resets its stream and closes its connection during the echo of its large upload cancels the backend stream at once (#21)', {
  timeout: 90_000,
}, async () => {
  const output = await assertLoopRuns(['h2-client'])
  // Each backend stream is reset with CANCEL (8), never ended as if the upload were whole, within
  // about the second Portico gives the streams of a client that closed its side of the connection.
  assert.match(output, /backend streams reset: 8,8,8\n/)
  const delays = /backend streams ended after ms: ([\d,]+)\n/.exec(output)![1]!.split(',').map(Number)
  assert.equal(delays.length, 3)
  for (const ms of delays) assert.ok(ms < 5000, `backend stream ended ${ms} ms after its client left`)
})

test('a client that leaves during its upload, before the HTTP/2 backend answers, leaves the event loop running (#21)', {
  timeout: 90_000,
}, async () => {
  await assertLoopRuns(['upload'])
})
