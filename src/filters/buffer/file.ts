import { randomUUID } from 'node:crypto'
import { type FileHandle, open, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Opens a new temporary file in `dir` for reading and writing, and unlinks it at once: it has no
 * name from then on, so nothing is left behind, whatever happens to the exchange or the process.
 * Its space is freed when the handle is closed.
 */
export async function bufferFile(dir: string): Promise<FileHandle> {
  const path = join(dir, `portico-${process.pid}-${randomUUID()}`)
  const handle = await open(path, 'wx+', 0o600)
  await unlink(path).catch(async (err) => {
    await handle.close()
    throw err
  })
  return handle
}
