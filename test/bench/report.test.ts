import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatReport, type Report, summarise } from '../../bench/report.ts'

const sample = (rps: number, cpuSeconds?: number) => ({ requests: rps, rps, p50Ms: 1, p99Ms: 2, errors: 0, cpuSeconds })

test('a scenario table names the contenders that sat it out and why, and prints its ratios and memory', () => {
  const report: Report = {
    date: '2026-11-24 05:05 UTC',
    versions: { portico: '0.1.0' },
    settings: { load: 'wrk' },
    notes: ['Scenario h2-tls skipped: it needs h2load (Debian package nghttp2-client), which is not installed.'],
    scenarios: [
      {
        name: 'json-100k',
        title: '100 KiB JSON, compressed',
        rows: [summarise('portico+gzip', [sample(500, 0.5)], 500), summarise('nginx', [sample(1000, 0.4)], 500)],
        skipped: [{ contender: 'http-proxy', reason: 'cannot compress' }],
        ratios: [{ label: 'portico+gzip ÷ nginx', value: 0.5 }],
      },
    ],
    memory: [{ contender: 'portico+gzip', peakRssMb: 150, rssAtEndMb: 140, rssAfterMb: 90, privateAfterMb: 40 }],
    idleSeconds: 15,
    targets: [],
  }
  const text = formatReport(report)
  assert.match(text, /\| nginx +\| +1000 \|.*\| +2\.00× \|/)
  // CPU per request over nginx's, in the scenario's table and in the headline table above them all.
  assert.match(text, /\| portico\+gzip +\| +500 \|.*\| +1000\.0 \| +2\.50× \|/)
  assert.match(text, /\| json-100k +\| portico\+gzip +\| +2\.50× \|/)
  assert.match(text, /\| http-proxy \(skipped: cannot compress\) \| +\|/)
  assert.match(text, /\nportico\+gzip ÷ nginx: 0\.50×\n/)
  assert.match(text, /\nRSS after: once the load has stopped for 15 s\.\n/)
  assert.match(text, /\| portico\+gzip \| +150\.0 \| +140\.0 \| +90\.0 \| +40\.0 \|/)
  assert.match(text, /\nScenario h2-tls skipped: it needs h2load \(Debian package nghttp2-client\)/)
})
