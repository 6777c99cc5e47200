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

test('an HTTP/2 client that resets its stream during the echo of its large upload leaves the event loop running (#21)', {
  timeout: 90_000,
}, async () => {
  await assertLoopRuns(['h2-client'])
})

test('a client that leaves during its upload, before the HTTP/2 backend answers, leaves the event loop running (#21)', {
  timeout: 90_000,
}, async () => {
  await assertLoopRuns(['upload'])
})
