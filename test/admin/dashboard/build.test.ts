import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'

const dist = new URL('../../../dist/admin/dashboard/', import.meta.url)

test('the build puts the dashboard page, its scripts and style beside the compiled module that serves them', {
  skip: !existsSync(new URL('routes.js', dist)) && 'dist/ is not built (npm ci builds it)',
}, () => {
  for (const file of ['index.html', 'app.js', 'chart.js', 'pools.js', 'style.css'])
    assert.ok(existsSync(new URL(file, dist)), file)
})
