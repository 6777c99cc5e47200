import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Decision, evaluate } from '../../../src/filters/waf/engine.ts'
import { loadRules } from '../../../src/filters/waf/load.ts'
import { requestData } from '../../../src/filters/waf/request-data.ts'
import { specialize } from '../../../src/filters/waf/specialize.ts'
import { type CorpusRequest, corpus, wire } from './corpus.ts'
import { crsDir, modsecurityMissing, send, startReference } from './modsecurity.ts'

const missing = modsecurityMissing()
const levels = [1, 2]
const concurrency = 8
const noExclusions = { ruleIds: new Set<number>(), targets: [], targetsById: new Map() }

/** Why the two engines disagree, from the rules each matched. */
function reason(portico: Decision, modsec: readonly number[]): string {
  const ours = [...new Set(portico.findings.map((f) => f.id))]
  const detectors = new Set([942100, 941100])
  const onlyOurs = ours.filter((id) => !modsec.includes(id))
  const onlyTheirs = modsec.filter((id) => id !== 949110 && !ours.includes(id))
  if (onlyOurs.length > 0 && onlyOurs.every((id) => detectors.has(id)))
    return `Portico's detector matched (${onlyOurs.join(',')}) where libinjection did not`
  if (onlyTheirs.length > 0 && onlyTheirs.every((id) => detectors.has(id)))
    return `libinjection matched (${onlyTheirs.join(',')}) where Portico's detector did not`
  return `rules only Portico matched: ${onlyOurs.join(',') || '-'}; only ModSecurity: ${onlyTheirs.join(',') || '-'}`
}

test('the firewall decides as ModSecurity v3 with the same Core Rule Set on 2,000+ attacks and 500 ordinary requests, at paranoia levels 1 and 2', {
  skip: missing,
  timeout: 240_000,
}, async (t) => {
  const requests = corpus(500)
  assert.ok(requests.filter((r) => r.family !== 'ordinary').length >= 2000)
  const reference = await startReference(levels)
  t.after(() => reference.stop())
  const program = loadRules(crsDir)
  for (const level of levels) {
    const port = reference.ports.get(level)!
    const answers = new Map<number, { status: number; clientPort: number }>()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const r = requests[next++]!
        answers.set(r.id, await send(port, wire(r)))
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    // The audit log is written after each answer: wait until it holds every request.
    let ids = reference.ruleIds(level)
    for (let i = 0; i < 100 && ids.size < answers.size; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      ids = reference.ruleIds(level)
    }
    const tx = new Map([
      ['crs_setup_version', '334'],
      ['paranoia_level', String(level)],
      ['executing_paranoia_level', String(level)],
    ])
    // As a route does: the TX-only rules run once, the rules the paranoia level rules out are left out.
    const { program: routeProgram, start } = specialize(program, tx, noExclusions)
    let same = 0
    const differences: string[] = []
    const notCompared: CorpusRequest[] = []
    for (const r of requests) {
      const answer = answers.get(r.id)!
      // 405: ModSecurity passed it and nginx's static page refused the method. 400, 206, 416: nginx
      // answered from its own checks or the Range header, not from ModSecurity's decision.
      if (![200, 403, 405].includes(answer.status)) {
        notCompared.push(r)
        continue
      }
      const body = r.body === undefined ? undefined : Buffer.from(r.body)
      const data = requestData({
        method: r.method,
        target: r.target,
        protocol: 'HTTP/1.1',
        headers: r.headers,
        remoteAddr: '127.0.0.1',
        body,
      })
      const d = evaluate(routeProgram, data, start, noExclusions)
      if (d.deny === (answer.status === 403)) {
        same++
        continue
      }
      const theirs = ids.get(answer.clientPort) ?? []
      differences.push(
        `#${r.id} ${r.family} ${r.method} ${r.target.slice(0, 50)}: ModSecurity ${answer.status === 403 ? 'blocks' : 'passes'}, Portico ${d.deny ? 'blocks' : 'passes'}; ${reason(d, theirs)}`,
      )
    }
    const agreement = same / (same + differences.length)
    t.diagnostic(
      `PL${level}: ${same} of ${same + differences.length} decisions equal (${(agreement * 100).toFixed(2)}%); ${notCompared.length} answered by nginx itself`,
    )
    for (const line of differences) t.diagnostic(`PL${level} ${line}`)
    assert.ok(notCompared.length < 20, `nginx answered ${notCompared.length} requests itself`)
    assert.ok(agreement >= 0.97, `PL${level}: agreement ${(agreement * 100).toFixed(2)}% < 97%`)
  }
})
