import type { Pair } from './request-data.ts'

/** What ModSecurity's XML processor gives the rules: `XML:/*` and `XML://@*`, or why it failed. */
export interface XmlBody {
  readonly pairs: Pair[]
  readonly error: string
}

const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Replaces the XML entities and character references; an unknown entity stays as written. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (all, name: string) => {
    if (!name.startsWith('#')) return entities[name] ?? all
    const code = name.startsWith('#x') ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10)
    // Back to bytes: a character reference stands for its UTF-8 encoding.
    return Buffer.from(String.fromCodePoint(code & 0x10ffff), 'utf8').toString('latin1')
  })
}

// A tag, a comment, CDATA, a processing instruction or a declaration; text lies between them.
const token =
  /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<![^>]*>|<(\/?)([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g
const attribute = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g

/**
 * Reads an XML body (byte string) as ModSecurity v3 exposes it to the rules: `XML:/*` is the text
 * content of the whole document (every text and CDATA node, entities replaced, concatenated) and
 * `XML://@*` each attribute value. No entity is loaded from outside and no DTD is read. A body
 * that is not well formed (unclosed or crossed tags, stray `<`) gives an error, and no pairs.
 */
export function parseXml(body: string): XmlBody {
  let text = ''
  const attributes: Pair[] = []
  const open: string[] = []
  let roots = 0
  let at = 0
  token.lastIndex = 0
  for (let m = token.exec(body); m; m = token.exec(body)) {
    const between = body.slice(at, m.index)
    if (between.includes('<')) return { pairs: [], error: 'XML parsing error: stray "<"' }
    if (open.length > 0) text += decodeEntities(between)
    else if (between.trim() !== '') return { pairs: [], error: 'XML parsing error: text outside the root element' }
    at = token.lastIndex
    if (m[1] !== undefined) {
      text += m[1]
      continue
    }
    const name = m[3]
    if (name === undefined) continue
    if (m[2] === '/') {
      if (open.pop() !== name) return { pairs: [], error: `XML parsing error: unexpected </${name}>` }
      continue
    }
    if (open.length === 0 && ++roots > 1) return { pairs: [], error: 'XML parsing error: two root elements' }
    for (const a of m[4]!.matchAll(attribute)) attributes.push(['XML://@*', decodeEntities(a[2] ?? a[3] ?? '')])
    if (m[5] !== '/') open.push(name)
  }
  if (body.slice(at).trim() !== '' || open.length > 0 || roots === 0)
    return { pairs: [], error: 'XML parsing error: document not closed' }
  return { pairs: [['XML:/*', text], ...attributes], error: '' }
}
