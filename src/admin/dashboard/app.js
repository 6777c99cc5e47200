// The dashboard page: reads the admin listener's event stream (GET /dashboard/events) and draws
// each snapshot; its buttons call the admin API. The token, when the listener asks for one, is
// kept in sessionStorage: for this tab only, gone when it closes.

const tokenKey = 'portico-admin-token'
const windowMs = 5 * 60 * 1000
const svgNs = 'http://www.w3.org/2000/svg'
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
  drawPools(s.pools)
  drawErrors(s.errors)
  drawChanges(s.changes)
  drawCertificates(s.certificates)
}

/** Draws lines of [time, value] over the last five minutes; null values break the line. */
function chart(svg, now, series, floor = 0) {
  // Drawn in the element's own pixels, so that lines and labels are not stretched.
  const width = svg.clientWidth || 600
  const height = svg.clientHeight || 120
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  // The scale fits all but the highest 1% of values, which are drawn at the top: one slow
  // outlier does not flatten five minutes of latency into the floor.
  const values = series.flatMap((s) => s.values.map((v) => v[1] ?? 0)).sort((x, y) => x - y)
  const top = Math.max(floor, values[Math.floor((values.length - 1) * 0.99)] ?? 0)
  const max = niceCeiling(top)
  // The plot sits between the scale label above and the time labels below.
  const plotTop = 18
  const plotBottom = height - 18
  const yOf = (v) => plotBottom - (Math.min(v, max) / max) * (plotBottom - plotTop)
  const children = []
  for (const f of [0, 0.5, 1])
    children.push(el('line', { class: 'grid', x1: 0, x2: width, y1: yOf(max * f), y2: yOf(max * f) }))
  for (const s of series) {
    let run = []
    const flush = () => {
      if (run.length > 0) children.push(el('polyline', { class: `line ${s.name}`, points: run.join(' ') }))
      run = []
    }
    for (const [t, v] of s.values) {
      if (v == null) {
        flush()
        continue
      }
      const x = width - ((now - t) / windowMs) * width
      const y = yOf(v)
      run.push(`${x.toFixed(1)},${y.toFixed(1)}`)
    }
    flush()
  }
  for (const [text, x, anchor] of [
    [String(max), 4, 'start'],
    ['5 min ago', 4, 'start'],
    ['now', width - 4, 'end'],
  ]) {
    const label = el('text', { class: 'scale', x, y: text === String(max) ? 12 : height - 4, 'text-anchor': anchor })
    label.textContent = text
    children.push(label)
  }
  svg.replaceChildren(...children)
}

function niceCeiling(n) {
  if (n <= 0) return 1
  const step = 10 ** Math.floor(Math.log10(n))
  for (const m of [1, 2, 5, 10]) if (n <= m * step) return m * step
  return 10 * step
}

function el(name, attributes) {
  const node = document.createElementNS(svgNs, name)
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v))
  return node
}

function html(name, text, className) {
  const node = document.createElement(name)
  if (text !== undefined) node.textContent = text
  if (className) node.className = className
  return node
}

/** A server's state in a word: what an operator needs to know first. */
function stateOf(s) {
  if (s.draining) return s.empty ? 'empty' : 'draining'
  if (s.ejected) return 'ejected'
  if (s.health === 'unhealthy') return 'down'
  return s.out ? 'out' : 'up'
}

function drawPools(pools) {
  const root = $('pools')
  const seen = new Set()
  for (const pool of pools) {
    seen.add(pool.name)
    let card = root.querySelector(`[data-pool="${CSS.escape(pool.name)}"]`)
    if (!card) {
      card = html('article', undefined, 'pool')
      card.dataset.pool = pool.name
      const head = html('h3')
      const table = html('table')
      const header = html('tr')
      for (const h of [
        'server',
        'state',
        'health',
        'why out',
        'in flight',
        'connections',
        'latency',
        'ejections',
        'weight',
        '',
      ])
        header.append(html('th', h))
      table.append(html('thead'), html('tbody'))
      table.tHead.append(header)
      card.append(head, table)
      root.append(card)
    }
    card.querySelector('h3').textContent =
      `${pool.name} · ${pool.balancer} · ${pool.in_flight} in flight · ${pool.queued} queued`
    const body = card.querySelector('tbody')
    const rows = new Set()
    for (const s of pool.servers) {
      rows.add(s.address)
      let row = body.querySelector(`[data-server="${CSS.escape(s.address)}"]`)
      if (!row) row = serverRow(pool.name, s.address, body)
      fillRow(row, s)
    }
    for (const row of body.querySelectorAll('tr')) if (!rows.has(row.dataset.server)) row.remove()
  }
  for (const card of root.querySelectorAll('[data-pool]')) if (!seen.has(card.dataset.pool)) card.remove()
}

function serverRow(pool, address, body) {
  const row = html('tr')
  row.dataset.server = address
  const cells = ['address', 'state', 'health', 'reason', 'in-flight', 'connections', 'latency', 'ejections']
  for (const c of cells) row.append(html('td', '', c))
  row.cells[0].textContent = address
  const weight = html('td', undefined, 'weight')
  const form = html('form')
  const input = html('input')
  input.type = 'number'
  input.min = '0'
  input.max = '1000'
  input.setAttribute('aria-label', `weight of ${address}`)
  form.append(input, html('button', 'Set'))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    void change('PUT', pool, address, 'weight', { weight: Number(input.value) })
  })
  weight.append(form)
  const actions = html('td', undefined, 'actions')
  const toggle = html('button', 'Drain', 'toggle')
  toggle.type = 'button'
  toggle.addEventListener('click', () => {
    const draining = row.dataset.draining === 'true'
    void change('POST', pool, address, draining ? 'enable' : 'drain')
  })
  actions.append(toggle)
  row.append(weight, actions)
  body.append(row)
  return row
}

function fillRow(row, s) {
  const state = stateOf(s)
  row.dataset.state = state
  row.dataset.draining = String(s.draining)
  const cell = (name) => row.querySelector(`td.${name}`)
  cell('state').textContent = s.backup ? `${state} (backup)` : state
  cell('health').textContent = s.health
  cell('reason').textContent =
    s.reason && s.out ? `${s.reason.source}: ${s.reason.detail} since ${time(s.reason.since)}` : ''
  cell('in-flight').textContent = s.max_conns > 0 ? `${s.in_flight} / ${s.max_conns}` : String(s.in_flight)
  cell('connections').textContent = `${s.connections.active} active, ${s.connections.waiting} waiting`
  cell('latency').textContent = `${s.latency_ewma_ms} ms`
  cell('ejections').textContent = String(s.ejections)
  const input = row.querySelector('input')
  if (document.activeElement !== input) input.value = String(s.weight)
  row.querySelector('button.toggle').textContent = s.draining ? 'Enable' : 'Drain'
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

function time(iso) {
  return new Date(iso).toLocaleTimeString()
}

void connect()
