import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compile, type Program } from './compile.ts'
import { type Directive, parseDirectives } from './parse.ts'

/**
 * Loads the request rules of a Core Rule Set directory (`REQUEST-*.conf`, in name order) and
 * compiles them once. Response rules are not loaded: Portico inspects requests only.
 */
export function loadRules(dir: string): Program {
  const files = readdirSync(dir)
    .filter((f) => /^REQUEST-.*\.conf$/.test(f))
    .sort()
  if (files.length === 0) throw new Error(`no REQUEST-*.conf rule files in ${dir}`)
  const directives: Directive[] = []
  for (const f of files) directives.push(...parseDirectives(readFileSync(join(dir, f), 'latin1'), f))
  return compile(directives, dir, new Set())
}

/** Debian's `modsecurity-crs` package puts the rules here; the default of `waf.rules_dir`. */
export const defaultRulesDir = '/usr/share/modsecurity-crs/rules'
