import assert from 'node:assert/strict'
import { test } from 'node:test'
import { detectSqli } from '../../../src/filters/waf/detect-sqli.ts'
import { detectXss } from '../../../src/filters/waf/detect-xss.ts'
import { parseActions, parseDirectives, parseVariables } from '../../../src/filters/waf/parse.ts'
import { PhraseMatcher } from '../../../src/filters/waf/pm.ts'
import { pcreToRegExp } from '../../../src/filters/waf/regex.ts'
import { parseUrlencoded, requestData } from '../../../src/filters/waf/request-data.ts'
import { transforms } from '../../../src/filters/waf/transforms.ts'

test('rule files split into directives across continued lines, with quoted arguments and comments skipped', () => {
  const text = '# comment\nSecRule ARGS "@rx a\\"b" \\\n  "id:1,\\\n  phase:2"\nSecMarker END\n'
  const [rule, marker] = parseDirectives(text, 'f.conf')
  assert.deepEqual(rule!.args, ['ARGS', '@rx a"b', 'id:1,  phase:2'])
  assert.equal(rule!.line, 2)
  assert.deepEqual(marker!.args, ['END'])
})

test('action lists keep commas inside single quotes and drop the quotes', () => {
  assert.deepEqual(parseActions("id:942100,msg:'a, b',setvar:'tx.x=+%{tx.y}',t:none"), [
    { name: 'id', value: '942100' },
    { name: 'msg', value: 'a, b' },
    { name: 'setvar', value: 'tx.x=+%{tx.y}' },
    { name: 't', value: 'none' },
  ])
})

test('target lists read exclusions, counts, keys and key regexes', () => {
  const vars = parseVariables('REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|&ARGS|ARGS:id|XML:/*')
  assert.deepEqual(
    vars.map((v) => [v.collection, v.key, v.keyIsRegex, v.count, v.exclude]),
    [
      ['REQUEST_COOKIES', undefined, false, false, false],
      ['REQUEST_COOKIES', '__utm', true, false, true],
      ['ARGS', undefined, false, true, false],
      ['ARGS', 'id', false, false, false],
      ['XML', '/*', false, false, false],
    ],
  )
})

test('transformations decode as ModSecurity does', () => {
  const t = (name: string, v: string): string => transforms[name]!(v)
  assert.equal(t('urldecodeuni', '%27%u0041%uff1c+x'), "'A< x")
  assert.equal(t('htmlentitydecode', '&lt;&#x73;&#99;ript&gt'), '<script>')
  assert.equal(t('jsdecode', '\\x3cscript\\u003e'), '<script>')
  assert.equal(t('cssdecode', 'j\\61vascript'), 'javascript')
  assert.equal(t('cmdline', 'c^at /e\'tc/pass"wd'), 'cat/etc/passwd')
  assert.equal(t('normalisepath', '/a/./b/../../etc//passwd'), '/etc/passwd')
  assert.equal(t('compresswhitespace', 'a \t\n b'), 'a b')
  assert.equal(t('removenulls', 'a\0b'), 'ab')
  assert.equal(t('base64decode', 'PHNjcmlwdD4='), '<script>')
  assert.equal(t('utf8tounicode', Buffer.from('é', 'utf8').toString('latin1')), '%u00e9')
  assert.equal(t('length', 'abcd'), '4')
})

test('PCRE patterns become RegExps: leading and anchored (?i), possessive quantifiers, POSIX classes', () => {
  assert.ok(pcreToRegExp('(?i)select').test('SELECT'))
  assert.ok(pcreToRegExp('^(?i)up').test('UP'))
  assert.ok(pcreToRegExp('a++b').test('aab'))
  assert.ok(pcreToRegExp('[[:alpha:]]+').test('x'))
  assert.throws(() => pcreToRegExp('a\\Kb'))
})

test('one phrase automaton finds any phrase, case-insensitively, including phrases inside others', () => {
  const pm = new PhraseMatcher(['passwd', 'etc/shadow', 'sh'])
  assert.equal(pm.find('GET /ETC/SHADOW'), 'sh')
  assert.equal(pm.find('/etc/passwd'), 'passwd')
  assert.equal(pm.find('nothing here'), undefined)
})

test('bodies become arguments named as ModSecurity names them', () => {
  const json = requestData({
    method: 'POST',
    target: '/a?x=1',
    protocol: 'HTTP/1.1',
    headers: [['Content-Type', 'application/json']],
    remoteAddr: '127.0.0.1',
    body: Buffer.from(JSON.stringify({ user: { name: "O'Brien" }, tags: ['a', 'b'] })),
  })
  assert.deepEqual(json.argsPost, [
    ['json.user.name', "O'Brien"],
    ['json.tags.array_0', 'a'],
    ['json.tags.array_1', 'b'],
  ])
  assert.equal(json.bodyProcessor, 'JSON')
  assert.deepEqual(parseUrlencoded('a=1&b=%27x%27&c'), [
    ['a', '1'],
    ['b', "'x'"],
    ['c', ''],
  ])
})

test("Portico's detectors find injections and leave prose, names and queries alone", () => {
  for (const v of ["1' or '1'='1", '1 UNION SELECT a FROM b', "admin'--", '1; DROP TABLE users'])
    assert.ok(detectSqli(v), v)
  for (const v of ["O'Brien", 'Please select a size and drop us a line', 'rock and roll', "it's 5 o'clock"])
    assert.equal(detectSqli(v), undefined, v)
  for (const v of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)'])
    assert.ok(detectXss(v), v)
  for (const v of ['a < b and c > d', '<b>bold</b>', 'Tom & Jerry']) assert.equal(detectXss(v), undefined, v)
})

test('a SecAction always runs; a route leaves out the rules its paranoia level gates off and keeps the others', async () => {
  const { compile } = await import('../../../src/filters/waf/compile.ts')
  const { evaluate } = await import('../../../src/filters/waf/engine.ts')
  const { specialize } = await import('../../../src/filters/waf/specialize.ts')
  const rules = `
SecAction "id:1,phase:1,pass,nolog,setvar:'tx.anomaly_score=0'"
SecRule TX:EXECUTING_PARANOIA_LEVEL "@lt 2" "id:2,phase:1,pass,nolog,skipAfter:END-PL2"
SecRule ARGS "@contains pl2" "id:3,phase:1,deny"
SecMarker "END-PL2"
SecRule ARGS "@contains pl1" "id:4,phase:1,pass,setvar:'tx.anomaly_score=+5'"
SecRule TX:ANOMALY_SCORE "@ge 5" "id:5,phase:1,deny"
`
  const program = compile(parseDirectives(rules, 'test.conf'), '.', new Set())
  const none = { ruleIds: new Set<number>(), targets: [], targetsById: new Map() }
  const ask = (level: number, query: string): boolean => {
    const tx = new Map([['executing_paranoia_level', String(level)]])
    const plan = specialize(program, tx, none)
    const data = requestData({
      method: 'GET',
      target: `/?q=${query}`,
      protocol: 'HTTP/1.1',
      headers: [],
      remoteAddr: '192.0.2.1',
      body: undefined,
    })
    return evaluate(plan.program, data, plan.start, none).deny
  }
  assert.equal(ask(1, 'pl2'), false)
  assert.equal(ask(2, 'pl2'), true)
  assert.equal(ask(1, 'pl1'), true)
  assert.equal(ask(1, 'nothing'), false)
  const plan1 = specialize(program, new Map([['executing_paranoia_level', '1']]), none)
  assert.deepEqual(
    plan1.program.phases[0].flatMap((s) => (s.rule ? [s.rule.id] : [])),
    [4, 5],
    'rule 1 runs once per route, 2 and 3 are left out at level 1',
  )
})

test('an XML body gives XML:/* (all text, entities replaced) and XML://@*; a malformed one gives a body error', () => {
  const read = (body: string) =>
    requestData({
      method: 'POST',
      target: '/',
      protocol: 'HTTP/1.1',
      headers: [['Content-Type', 'text/xml']],
      remoteAddr: '192.0.2.1',
      body: Buffer.from(body, 'latin1'),
    })
  const ok = read(
    '<?xml version="1.0"?><a id="7" n=\'x&amp;y\'><b>1 &lt; 2</b><!-- no --><c><![CDATA[<i>]]></c><d/></a>',
  )
  assert.equal(ok.bodyProcessor, 'XML')
  assert.equal(ok.bodyError, '')
  assert.deepEqual(ok.xml, [
    ['XML:/*', '1 < 2<i>'],
    ['XML://@*', '7'],
    ['XML://@*', 'x&y'],
  ])
  for (const bad of ['<a><b></a>', '<a/><b/>', '<a>', 'text'])
    assert.match(read(bad).bodyError, /^XML parsing error/, bad)
})

test("a request's TX reads through to the route's values, writes and deletes stay its own, order is a Map's", async () => {
  const { Tx } = await import('../../../src/filters/waf/tx.ts')
  const base = new Map([
    ['paranoia_level', '1'],
    ['header_name_a', '/a/'],
    ['x', '1'],
  ])
  const tx = new Tx(base)
  tx.set('x', '2')
  tx.set('header_name_b', '/b/')
  tx.delete('paranoia_level')
  assert.equal(tx.get('x'), '2')
  assert.equal(tx.get('paranoia_level'), undefined)
  assert.deepEqual(
    [...tx],
    [
      ['header_name_a', '/a/'],
      ['x', '2'],
      ['header_name_b', '/b/'],
    ],
  )
  const matched: string[] = []
  tx.forEachMatching(/^header_name_/, (v, k) => matched.push(`${k}=${v}`))
  assert.deepEqual(matched, ['header_name_a=/a/', 'header_name_b=/b/'])
  assert.equal(base.get('x'), '1', 'the route values are untouched')
  assert.equal(new Tx(base).get('paranoia_level'), '1')
})
