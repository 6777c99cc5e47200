// The dashboard's charts: lines over the last five minutes, hand-drawn in SVG.

/** The time the charts span. */
export const windowMs = 5 * 60 * 1000
const svgNs = 'http://www.w3.org/2000/svg'

/** Draws lines of [time, value] over the last five minutes; null values break the line. */
export function chart(svg, now, series, floor = 0) {
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
