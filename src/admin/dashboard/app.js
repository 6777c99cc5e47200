// The dashboard page: reads the admin listener's event stream (GET /dashboard/events) and draws
// each snapshot; its buttons call the admin API. The token, when the listener asks for one, is
// kept in sessionStorage: for this tab only, gone when it closes.

import { chart, windowMs } from './chart.js'
import { drawPools, html, time } from './pools.js'

const tokenKey = 'portico-admin-token'
/** @type {{t: number, rps: number, error_rate: number, p50_ms: number|null, p95_ms: number|null, p99_ms: number|null}[]} */
let points = []

const $ = (id) => document.getElementById(id)

function authHeaders() {
  const token = sessionStorage.getItem(tokenKey)
  return token ? { authorization: `Bearer ${token}` } : {}
}

function setLink(state, text) {
  $('link').dataset.state = state
  $('link').textContent = text
}

function askToken(why) {
  sessionStorage.removeItem(tokenKey)
  $('token').hidden = false
  setLink('token', why)
  $('token-value').focus()
}

$('token').addEventListener('submit', (e) => {
  e.preventDefault()
  sessionStorage.setItem(tokenKey, $('token-value').value.trim())
  $('token-value').value = ''
  $('token').hidden = true
  void connect()
})

/** Reads the event stream with fetch (EventSource cannot send the token), and again after it ends. */
async function connect() {
  setLink('connecting', 'connecting…')
  let response
  try {
    response = await fetch('/dashboard/events', { headers: authHeaders(), cache: 'no-store' })
  } catch {
    return retry()
  }
  if (response.status === 401) {
    return askToken(sessionStorage.getItem(tokenKey) ? 'the token was refused' : 'this listener needs a token')
  }
  if (!response.ok || !response.body) return retry()
  setLink('live', 'live')
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n')
        if (data) draw(JSON.parse(data))
      }
    }
  } catch {
    // The connection broke: try again below.
  }
  retry()
}

function retry() {
  setLink('down', 'reconnecting…')
  setTimeout(() => void connect(), 2000)
}

function draw(s) {
  if (s.history) points = s.history
  else if (s.point) points.push(s.point)
  const since = Date.parse(s.at) - windowMs
  points = points.filter((p) => p.t >= since)
  $('requests').textContent = String(s.requests)
  $('workers').textContent = String(s.workers.length)
  $('version').textContent = String(s.version)
  $('loaded').textContent = new Date(s.loaded_at).toLocaleTimeString()
  const notice = $('notice')
  document.querySelector('.charts').hidden = !s.metrics
  notice.hidden = s.metrics
  notice.textContent = s.metrics ? '' : 'Metrics are off: add a `metrics` section to the config for traffic charts.'
  const last = points.at(-1)
  $('rps').textContent = last ? last.rps.toFixed(1) : '–'
  $('error-rate').textContent = last ? `${(last.error_rate * 100).toFixed(2)} %` : '–'
  $('latency').textContent = last?.p99_ms != null ? `p99 ${last.p99_ms}` : '–'
  const now = Date.parse(s.at)
  chart($('chart-rps'), now, [{ name: 'rps', values: points.map((p) => [p.t, p.rps]) }])
  chart($('chart-errors'), now, [{ name: 'errors', values: points.map((p) => [p.t, p.error_rate * 100]) }], 1)
  chart(
    $('chart-latency'),
    now,
    ['p50', 'p95', 'p99'].map((q) => ({ name: q, values: points.map((p) => [p.t, p[`${q}_ms`]]) })),
  )
  drawPools(s.pools, change)
  drawErrors(s.errors)
  drawChanges(s.changes)
  drawCertificates(s.certificates)
  drawGroup(s.group)
}

/** Calls the admin API for one server, and says what came of it. */
async function change(method, pool, address, verb, body) {
  const path = `/pools/${encodeURIComponent(pool)}/servers/${encodeURIComponent(address)}/${verb}`
  const response = await fetch(path, {
    method,
    headers: { ...authHeaders(), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (response.status === 401) return askToken('the token was refused')
  const answer = await response.json()
  const notice = $('notice')
  notice.hidden = false
  notice.textContent = response.ok ? `${verb} ${pool} ${address}: done` : `${verb} ${pool} ${address}: ${answer.error}`
}

function drawErrors(errors) {
  const items = errors.map((e) => {
    const li = html('li')
    const when = e.since === e.at ? time(e.at) : `${time(e.since)}–${time(e.at)}`
    li.append(html('time', when), html('span', e.kind, 'kind'), html('span', e.text))
    return li
  })
  if (items.length === 0) items.push(html('li', 'none seen yet', 'quiet'))
  $('errors').replaceChildren(...items)
}

function drawChanges(changes) {
  const items = changes.map((c) =>
    html('li', `${c.pool} ${c.server}: ${c.change}${c.change === 'weight' ? ` ${c.file} → ${c.now}` : ''}`),
  )
  if (items.length === 0) items.push(html('li', 'none: the running config is the file', 'quiet'))
  $('changes').replaceChildren(...items)
}

function drawCertificates(certificates) {
  const rows = certificates.map((c) => {
    const row = html('tr')
    if (c.error) row.className = 'bad'
    else if (c.days_left < 14) row.className = 'warn'
    row.append(
      html('td', c.listener),
      html('td', c.error ?? c.names.join(', ')),
      html('td', c.not_after ? new Date(c.not_after).toLocaleDateString() : ''),
      html('td', c.error ? '' : String(c.days_left)),
    )
    return row
  })
  if (rows.length === 0) {
    const row = html('tr')
    const td = html('td', 'no TLS listener', 'quiet')
    td.colSpan = 4
    row.append(td)
    rows.push(row)
  }
  $('certificates').tBodies[0].replaceChildren(...rows)
}

/** The instances of the group, a row per serving process; hidden when the instance shares nothing. */
function drawGroup(group) {
  const section = $('group')
  section.hidden = !group
  if (!group) return
  const rows = group.instances.flatMap((i) =>
    i.processes.map((p, n) => {
      const row = html('tr')
      row.dataset.instance = i.instance
      row.append(
        html('td', n === 0 ? i.instance : ''),
        html('td', String(p.pid)),
        html('td', p.version),
        html('td', String(p.in_flight)),
        html('td', String(p.queued)),
        html('td', time(p.seen)),
      )
      return row
    }),
  )
  section.querySelector('tbody').replaceChildren(...rows)
}

void connect()
