// `npm run deb`: builds dist/portico_VERSION_ARCH.deb with dpkg-deb from the single executable (`npm run dist`):
// /usr/bin/portico, the systemd unit of examples/systemd/, a commented /etc/portico/portico.yaml (a conffile: an
// upgrade keeps the user's edits) and the examples; postinst makes the portico system user.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { arch, platform } from 'node:os'
import { dirname, join, relative } from 'node:path'

const root = join(import.meta.dirname, '../..')
const here = import.meta.dirname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; description: string }
// Debian's names for node's architectures.
const debianArch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[arch()]
if (platform() !== 'linux' || !debianArch) throw new Error(`no Debian package for ${platform()}-${arch()}`)
const executable = join(root, 'dist', `portico-linux-${arch()}`)
const out = join(root, 'dist', `portico_${pkg.version}_${debianArch}.deb`)

const stage = mkdtempSync(join(root, 'dist', 'deb-'))
// The package's root is the system's: 0755, not mkdtemp's 0700.
chmodSync(stage, 0o755)
const put = (source: string, target: string, mode: number) => {
  mkdirSync(dirname(join(stage, target)), { recursive: true })
  copyFileSync(source, join(stage, target))
  chmodSync(join(stage, target), mode)
}
put(executable, 'usr/bin/portico', 0o755)
put(join(root, 'examples/systemd/portico.service'), 'lib/systemd/system/portico.service', 0o644)
put(join(here, 'portico.yaml'), 'etc/portico/portico.yaml', 0o644)
cpSync(join(root, 'examples'), join(stage, 'usr/share/doc/portico/examples'), { recursive: true })
for (const script of ['postinst', 'prerm', 'postrm']) put(join(here, script), `DEBIAN/${script}`, 0o755)
writeFileSync(join(stage, 'DEBIAN/conffiles'), '/etc/portico/portico.yaml\n')
const sizeKb = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).split('\t')[0])
writeFileSync(
  join(stage, 'DEBIAN/control'),
  [
    'Package: portico',
    `Version: ${pkg.version}`,
    `Architecture: ${debianArch}`,
    'Maintainer: Portico maintainers <portico@localhost>',
    `Installed-Size: ${sizeKb}`,
    // The executable carries node; it needs only the C library and the tools postinst uses.
    'Depends: libc6 (>= 2.28), passwd',
    'Section: httpd',
    'Priority: optional',
    `Description: ${pkg.description}`,
    ' One executable that holds Node.js and Portico, run as the portico user by the',
    ' systemd unit portico.service, with its config in /etc/portico/portico.yaml.',
    '',
  ].join('\n'),
)
// gzip: every dpkg reads it, and it is quick on a 100 MB executable.
execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', stage, out], { stdio: 'pipe' })
rmSync(stage, { recursive: true })
process.stdout.write(`built ${relative(process.cwd(), out)}\n`)
