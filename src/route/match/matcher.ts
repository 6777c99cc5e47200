import type { Exchange } from '../../exchange.ts'

/** One condition of a route, compiled once per Plan. */
export interface Matcher {
  /**
   * Whether the exchange meets the condition. `path` is the normalised path without query (see
   * routing-path.ts). A regex condition that holds records its captures on the exchange.
   */
  test(x: Exchange, path: string): boolean
}
