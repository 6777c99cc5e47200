import type { Exchange } from '../exchange.ts'
import { ClientRules } from '../http/client-rules.ts'
import type { ClientRulesConfig } from '../http/client-rules-schema.ts'
import type { RequestPhase, RoutePhaseFactory, Verdict } from './phase.ts'

/** Refuses clients the route's lists do not admit, by address and country. */
class ClientRulesPhase implements RequestPhase {
  readonly #rules: ClientRules

  constructor(rules: ClientRules) {
    this.#rules = rules
  }

  onRequest(x: Exchange): Verdict {
    // x.country is filled whenever a route's lists name a country (plan/build.ts `usesCountry`).
    return this.#rules.admits(x.clientAddress, x.country) ? undefined : 'client_denied'
  }
}

/**
 * A route's `clients` lists: a client they refuse gets 403 `client_denied` through the normal
 * answer path, before the route's other phases. By default a route admits every client.
 */
export const clientRules: RoutePhaseFactory<ClientRulesConfig | undefined> = {
  request: (clients) => (clients ? new ClientRulesPhase(new ClientRules(clients)) : undefined),
}
