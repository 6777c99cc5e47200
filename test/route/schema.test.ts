import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../../src/config/load.ts'

const head = 'listeners: [{address: "127.0.0.1:0"}]\npools: {web: {servers: ["127.0.0.1:1"]}}\nroutes:\n'

/** The error text for a config whose routes are `routes` (YAML lines under `routes:`). */
function errorOf(routes: string): string {
  try {
    parseConfig(head + routes, 'portico.yaml')
  } catch (err) {
    return (err as Error).message
  }
  return 'no error'
}

test('config errors for routes name the line, the key and what is expected', () => {
  const cases: [string, string][] = [
    [
      '  - match: {path: /x}\n',
      'portico.yaml:4:5 routes[0]: a route needs one action: pool, split, redirect, respond, static',
    ],
    [
      '  - pool: web\n    redirect: {to: /x}\n',
      'portico.yaml:5:15 routes[0].redirect: a route takes exactly one action, found pool and redirect',
    ],
    [
      '  - redirect: {to: "/u/{id}"}\n',
      'portico.yaml:4:20 routes[0].redirect.to: unknown variable "{id}"; expected one of {client_ip}, {country}, {request_id}, {host}, {method}, {scheme}, {path}, {query}, {request_uri}',
    ],
    [
      '  - split: {pools: [{pool: web, weight: 1}, {pool: wbe, weight: 1}]}\n',
      'portico.yaml:4:52 routes[0].split.pools[1].pool: unknown pool "wbe"; pools are "web"; did you mean "web"?',
    ],
    [
      '  - split: {pools: [{pool: web, weight: 0}]}\n',
      'portico.yaml:4:20 routes[0].split.pools: expected at least one pool with a weight above 0',
    ],
    [
      '  - match: {path: {regex: "^/(unclosed"}}\n    pool: web\n',
      'portico.yaml:4:27 routes[0].match.path.regex: invalid regular expression: Invalid regular expression: /^/(unclosed/: Unterminated group',
    ],
    [
      '  - rewrite: {strip_prefix: /a}\n    respond: {}\n',
      'portico.yaml:4:14 routes[0].rewrite: rewrite applies only to pool, split and static routes',
    ],
    [
      '  - pool: web\n    request_headers: {set: {Host: x}}\n',
      'portico.yaml:5:22 routes[0].request_headers: "Host" is written by Portico itself (the Host sent is pools.NAME.host_header) and cannot be edited here',
    ],
    [
      '  - pool: web\n    match: {country: GER}\n',
      'portico.yaml:5:22 routes[0].match.country: expected a two-letter ISO 3166 country code such as "DE", found "GER"',
    ],
    [
      '  - pool: web\n    match: {user_agent: robot}\n',
      'portico.yaml:5:25 routes[0].match.user_agent: expected one of "bot", "mobile", found "robot"; did you mean "bot"?',
    ],
    [
      '  - pool: web\n    match: {path: {exact: /a, prefix: /b}}\n',
      'portico.yaml:5:19 routes[0].match.path: expected exactly one of exact, prefix, regex',
    ],
    ['  - pool: web\n    rewrite: {regex: "^/a"}\n', 'routes[0].rewrite: regex and replace go together'],
  ]
  for (const [routes, expected] of cases)
    assert.ok(errorOf(routes).includes(expected), `${errorOf(routes)}\n  expected ${expected}`)
})

test('a capture a route defines may be used in its templates', () => {
  const config = parseConfig(
    `${head}  - match: {path: {regex: "^/u/(?<id>\\\\d+)/(\\\\w+)$"}, host: {regex: "^(?<sub>\\\\w+)\\\\."}}\n    redirect: {to: "/users/{id}/{2}?on={sub}"}\n`,
    'portico.yaml',
  )
  assert.equal(config.routes[0]!.redirect!.to, '/users/{id}/{2}?on={sub}')
})
