import assert from 'node:assert/strict'

/** One parsed sample: its family's type, and its value. */
export interface ParsedSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y

/**
 * Parses the Prometheus text format 0.0.4 strictly, failing the test on any line a Prometheus
 * server would refuse: a sample before its family's TYPE, a bad name, label or value, a histogram
 * without `+Inf`, or a family declared twice.
 */
export function parsePrometheusText(text: string): ParsedSample[] {
  assert.ok(text.endsWith('\n'), 'the text ends with a newline')
  const types = new Map<string, string>()
  const samples: ParsedSample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      assert.match(line.split(' ')[2]!, nameRe, line)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      assert.match(name!, nameRe, line)
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!), line)
      assert.ok(!types.has(name!), `${name} declared twice`)
      types.set(name!, type!)
      continue
    }
    assert.ok(!line.startsWith('#'), `unknown comment line: ${line}`)
    const m = sampleRe.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    const [, name, labelText, valueText] = m
    const family = types.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '')
    assert.ok(types.has(family), `${name} comes before its TYPE line`)
    const labels: Record<string, string> = {}
    if (labelText) {
      labelRe.lastIndex = 0
      while (labelRe.lastIndex < labelText.length) {
        const l = labelRe.exec(labelText)
        assert.ok(l, `bad labels: ${line}`)
        assert.ok(!(l[1]! in labels), `label ${l[1]} twice: ${line}`)
        labels[l[1]!] = l[2]!
      }
    }
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
    const special = valueText!.toLowerCase()
    const value = special === '+inf' ? Infinity : special === '-inf' ? -Infinity : Number(valueText)
    assert.ok(special === 'nan' || !Number.isNaN(value), `bad value: ${line}`)
    samples.push({ name: name!, labels, value })
  }
  for (const [name, type] of types) {
    if (type !== 'histogram') continue
    const counts = samples.filter((s) => s.name === `${name}_count`)
    for (const c of counts) {
      const inf = samples.find(
        (s) => s.name === `${name}_bucket` && s.labels.le === '+Inf' && sameLabels(s.labels, c.labels, 'le'),
      )
      assert.equal(inf?.value, c.value, `${name}: the +Inf bucket holds every observation`)
    }
  }
  return samples
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sum(samples: readonly ParsedSample[], name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const s of samples) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value
  }
  return total
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>, except: string) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  keys.delete(except)
  return [...keys].every((k) => a[k] === b[k])
}
