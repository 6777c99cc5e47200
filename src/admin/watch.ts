import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname } from 'node:path'

/**
 * Calls `changed` once the config file has stayed unchanged for `debounceMs` after a change.
 * Watches the file's folder, so that editors that replace the file (write a copy, rename it over)
 * are seen too. Returns a function that stops watching.
 */
export function watchConfigFile(file: string, debounceMs: number, changed: () => void): () => void {
  let timer: NodeJS.Timeout | undefined
  const name = basename(file)
  const watcher: FSWatcher = watch(dirname(file), (_event, changedName) => {
    if (changedName !== null && changedName !== name) return
    clearTimeout(timer)
    timer = setTimeout(changed, debounceMs)
  })
  watcher.unref()
  return () => {
    clearTimeout(timer)
    watcher.close()
  }
}
