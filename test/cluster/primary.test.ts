import assert from 'node:assert/strict'
import { test } from 'node:test'
import { workerExecArgv } from '../../src/cluster/primary.ts'

test('workers get a smaller young generation unless the operator sized it', () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], ''), ['--enable-source-maps', '--max-semi-space-size=16'])
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=64'], ''), ['--max-semi-space-size=64'])
  assert.deepEqual(workerExecArgv([], '--max-semi-space-size=32'), [])
})
