// The dashboard's pools: one table per pool, a row per server, updated in place so that a weight
// being typed survives the next snapshot.

export function html(name, text, className) {
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

/** Draws the pools; `change(method, pool, address, verb, body)` calls the API for a button or form. */
export function drawPools(pools, change) {
  const root = document.getElementById('pools')
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
      if (!row) row = serverRow(pool.name, s.address, body, change)
      fillRow(row, s)
    }
    for (const row of body.querySelectorAll('tr')) if (!rows.has(row.dataset.server)) row.remove()
  }
  for (const card of root.querySelectorAll('[data-pool]')) if (!seen.has(card.dataset.pool)) card.remove()
}

function serverRow(pool, address, body, change) {
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

/** A time of day, in the browser's own way. */
export function time(iso) {
  return new Date(iso).toLocaleTimeString()
}
