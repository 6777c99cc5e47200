import type { BalancerFactory } from './balancer.ts'
import { roundRobin } from './round-robin.ts'

/** Every balancer by its config name. A new balancer is one file and one line here. */
export const balancers = {
  round_robin: roundRobin,
} satisfies Record<string, BalancerFactory>

export type BalancerName = keyof typeof balancers

export const balancerNames = Object.keys(balancers) as [BalancerName, ...BalancerName[]]
