import type { Matcher } from './matcher.ts'
import type { MatchConfig } from './schema.ts'

// Tokens that crawlers, link previewers, monitors and HTTP libraries put in their User-Agent.
const bot =
  /bot\b|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|monitor|pingdom|headless|lighthouse|curl\/|wget\/|python-requests|python-urllib|go-http-client|java\/|okhttp|libwww|httpclient|axios\/|node-fetch|scrapy/i
// Phones and tablets: "Mobi" is what browsers on phones send (MDN's advice), plus tablets and old platforms.
const mobile = /mobi|android|iphone|ipod|ipad|windows phone|blackberry|opera mini|iemobile|silk\//i

const classes = { bot, mobile } as const

/** User-Agent condition: any of the named classes (`bot`, `mobile`) or regexes (case-insensitive). No header never matches. */
export function userAgentMatcher(condition: NonNullable<MatchConfig['user_agent']>): Matcher {
  const list = Array.isArray(condition) ? condition : [condition]
  const res = list.map((c) => (typeof c === 'string' ? classes[c] : new RegExp(c.regex, 'i')))
  return {
    test(x) {
      const ua = x.req.headers['user-agent']
      if (ua === undefined) return false
      for (const re of res) if (re.test(ua)) return true
      return false
    },
  }
}
