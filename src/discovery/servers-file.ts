import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { splitAddress } from '../values/address.ts'
import type { FoundServer } from './lookup.ts'

/**
 * Reads a servers file: a JSON list (`.json`) or a YAML one (any other name), of `"host:port"` or
 * `{address, weight}` entries. Rejects with a message that names the file and the first bad entry.
 */
export async function readServersFile(file: string): Promise<FoundServer[]> {
  const text = await readFile(file, 'utf8')
  let list: unknown
  try {
    // yaml is loaded only for a YAML servers file: the serving process otherwise never needs it.
    list = file.endsWith('.json')
      ? JSON.parse(text)
      : (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text)
  } catch (err) {
    throw new Error(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`)
  }
  if (!Array.isArray(list)) throw new Error(`${file}: expected a list of servers`)
  return list.map((entry, i) => serverOf(entry, `${file}[${i}]`))
}

function serverOf(entry: unknown, where: string): FoundServer {
  const { address, weight = 1 } =
    typeof entry === 'string' ? { address: entry } : ((entry ?? {}) as { address?: unknown; weight?: unknown })
  if (typeof address !== 'string' || splitAddress(address) === undefined)
    throw new Error(`${where}: expected "host:port" or {address: "host:port", weight}, found ${JSON.stringify(entry)}`)
  if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 1000)
    throw new Error(`${where}: weight must be an integer from 0 to 1000, found ${JSON.stringify(weight)}`)
  return { address, weight: weight as number }
}
