/**
 * A JSON document of at least `bytes` bytes that compresses like an API's answer does: an array of
 * order records with ids, names, e-mail addresses, timestamps, prices and tags, varied by a fixed
 * pseudo-random sequence, so every run and every origin serves the same bytes.
 */
export function jsonBody(bytes: number): Buffer {
  let seed = 42
  // A linear congruential generator: repeatable, and varied enough that the body is not one record repeated.
  // Its low bits cycle quickly, so the high ones choose.
  const next = (n: number) => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
    return (seed >>> 16) % n
  }
  const names = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Leslie']
  const surnames = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Perlman']
  const tags = ['priority', 'gift', 'backorder', 'fragile', 'express', 'return', 'wholesale', 'subscription']
  const statuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled']
  const orders: string[] = []
  let size = 2
  for (let id = 1; size < bytes; id++) {
    const first = names[next(names.length)]!
    const last = surnames[next(surnames.length)]!
    const order = JSON.stringify({
      id,
      customer: {
        id: 10_000 + next(90_000),
        name: `${first} ${last}`,
        email: `${first}.${last}${next(100)}@example.com`,
      },
      status: statuses[next(statuses.length)],
      created_at: new Date(Date.UTC(2026, next(12), 1 + next(28), next(24), next(60), next(60))).toISOString(),
      items: Array.from({ length: 1 + next(4) }, () => ({
        sku: `SKU-${(100_000 + next(900_000)).toString(36).toUpperCase()}`,
        quantity: 1 + next(5),
        price: (100 + next(99_900)) / 100,
      })),
      tags: Array.from({ length: next(3) }, () => tags[next(tags.length)]),
    })
    orders.push(order)
    size += order.length + 1
  }
  return Buffer.from(`[${orders.join(',')}]`)
}
