import type { BalancerFactory } from './balancer.ts'
import { hash } from './hash.ts'
import { ipHash } from './ip-hash.ts'
import { leastConn } from './least-conn.ts'
import { p2c } from './p2c.ts'
import { random } from './random.ts'
import { roundRobin } from './round-robin.ts'
import { sticky } from './sticky.ts'

/** Every balancer by its config name. A new balancer is one file and one line here. */
export const balancers = {
  round_robin: roundRobin,
  least_conn: leastConn,
  random,
  p2c,
  ip_hash: ipHash,
  hash,
  sticky,
} satisfies Record<string, BalancerFactory>

export type BalancerName = keyof typeof balancers

export const balancerNames = Object.keys(balancers) as [BalancerName, ...BalancerName[]]
