// `npm run dist`: builds dist/portico-linux-x64, one file that holds node 24 (the project's pinned `node` package)
// and Portico, as a node single executable application. Steps: esbuild bundles packaging/sea/entry.ts with src/ and
// the runtime dependencies into one CommonJS file; node writes the preparation blob (that file, the assets and the
// node flags of src/cli.ts's shebang line); postject injects the blob into a copy of node's binary.
// Only the platform it runs on is built: the blob and its code cache are made by the node that will run them.
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { build } from 'esbuild'

const root = join(import.meta.dirname, '../..')
const require = createRequire(import.meta.url)
const out = join(root, 'dist')
const target = join(out, `portico-${platform()}-${arch()}`)
// A build of its own and a rename at the end: builds at the same time (two test files) do not mix their files,
// and a process started from the executable never sees it half written.
mkdirSync(out, { recursive: true })
const work = mkdtempSync(join(out, 'sea-'))
const building = `${work}/portico`
// The fuse node looks for to know it carries a blob (node's docs, "Single executable applications").
const fuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

/** The environment and node flags of src/cli.ts's shebang line: the one place they are set. */
function shebang(): { flags: string[]; env: Record<string, string> } {
  const words = readFileSync(join(root, 'src/cli.ts'), 'utf8').split('\n', 1)[0]!.split(' ')
  const env = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split('=') as [string, string]))
  return { flags: words.filter((w) => w.startsWith('--')), env }
}

/** The files the executable carries, by their path under the project's root (src/ reads them from there). */
function assets(): Record<string, string> {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string
  writeFileSync(join(work, 'package.json'), `${JSON.stringify({ name: 'portico', version })}\n`)
  const geo = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb'
  const files: Record<string, string> = {
    'package.json': join(work, 'package.json'),
    [`node_modules/${geo}`]: require.resolve(geo),
  }
  const addon = join(out, 'malloc-trim.node')
  if (existsSync(addon)) files['dist/malloc-trim.node'] = addon
  else process.stderr.write('portico: dist/malloc-trim.node is not built, the executable goes without it\n')
  return files
}

/**
 * src/ reaches files beside its own through `import.meta.url` and packages through `createRequire`; in the
 * executable, the first resolve under the unpacked assets' root and the second are the bundle's own `require`,
 * which esbuild follows.
 */
const rootedImportMeta = {
  name: 'rooted-import-meta',
  setup(b: import('esbuild').PluginBuild) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      const here = JSON.stringify(relative(root, args.path))
      const text = readFileSync(args.path, 'utf8')
        .replaceAll(
          'createRequire(import.meta.url).resolve(',
          `((id) => require('node:url').fileURLToPath(globalThis.__porticoRoot + 'node_modules/' + id))(`,
        )
        .replaceAll('createRequire(import.meta.url)(', 'require(')
        .replaceAll('import.meta.url', `(globalThis.__porticoRoot + ${here})`)
      // Any other use would load a package from the disk of the machine the executable runs on: refused here.
      if (/createRequire\(/.test(text)) throw new Error(`${here}: createRequire in a form this build does not bundle`)
      return { contents: text, loader: 'ts' }
    })
  },
}

const { flags, env } = shebang()
const files = assets()
const bundle = join(work, 'portico.cjs')
await build({
  entryPoints: [join(root, 'packaging/sea/entry.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  // Node's internal HTTP parser, reached as src/http/parser.ts does; an executable's `require` loads built-ins.
  external: ['_http_common'],
  define: { __porticoAssets: JSON.stringify(Object.keys(files)), __porticoEnv: JSON.stringify(env) },
  plugins: [rootedImportMeta],
  logLevel: 'warning',
  // Every process holds the bundle's source: minified, each keeps 5 MB less (docs/PERFORMANCE.md). Names are kept,
  // for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
})

const blob = join(work, 'portico.blob')
const seaConfig = {
  main: bundle,
  output: blob,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  execArgv: flags,
  // NODE_OPTIONS still adds flags, as it does for the `portico` command.
  execArgvExtension: 'env',
  assets: files,
}
writeFileSync(join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2))
const node = join(dirname(require.resolve('node/package.json')), 'bin/node')
// Run with the executable's flags: V8 takes a code cache only from a V8 set up the same way.
execFileSync(node, [...flags, '--experimental-sea-config', join(work, 'sea-config.json')], { stdio: 'pipe' })

copyFileSync(node, building)
// The pinned binary keeps its symbols; the executable does without them (18 MB). Addons still find node's
// functions: the dynamic symbol table stays.
try {
  execFileSync('strip', [building])
} catch {
  process.stderr.write('portico: strip is missing, the executable keeps node debugging symbols\n')
}
const postject = join(dirname(require.resolve('postject/package.json')), 'dist/cli.js')
// Its warnings about the binary's note sections are harmless; a failure throws with its output.
execFileSync(node, [postject, building, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', fuse], { stdio: 'pipe' })
chmodSync(building, 0o755)
renameSync(building, target)
rmSync(work, { recursive: true })
process.stdout.write(`built ${relative(process.cwd(), target)}\n`)
