import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SecureContextOptions } from 'node:tls'
import { silentEvents } from '../../src/log/events.ts'
import { Certificates } from '../../src/tls/certificates.ts'
import { listenerTlsSchema } from '../../src/tls/schema.ts'
import { TestCa } from '../helpers/certs.ts'

test('ticket keys change at each rotation period, the same in every process given one secret', (t) => {
  const site = new TestCa(t).issue('localhost', ['localhost'])
  const config = listenerTlsSchema.parse({ certificates: [site], ticket_key_rotation: '1h' })
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 5 * 3_600_000 + 1000 })
  const secret = Buffer.from('s'.repeat(32))
  const served: SecureContextOptions[] = []
  const one = new Certificates(config, silentEvents, (o) => served.push(o), secret)
  const two = new Certificates(config, silentEvents, () => {}, secret)
  const other = new Certificates(config, silentEvents, () => {}, Buffer.from('o'.repeat(32)))
  t.after(() => {
    for (const c of [one, two, other]) c.close()
  })
  const first = one.defaultOptions.ticketKeys!
  assert.equal(first.length, 48)
  assert.deepEqual(two.defaultOptions.ticketKeys, first)
  assert.notDeepEqual(other.defaultOptions.ticketKeys, first)
  t.mock.timers.tick(3_600_000 - 1001)
  assert.equal(served.length, 0, 'the key holds until its period ends')
  t.mock.timers.tick(1)
  assert.equal(served.length, 1)
  const second = served[0]!.ticketKeys!
  assert.notDeepEqual(second, first)
  assert.deepEqual(one.defaultOptions.ticketKeys, second)
  t.mock.timers.tick(3_600_000)
  assert.equal(served.length, 2, 'and so on, every period')
})
