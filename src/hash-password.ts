// `portico hash-password`: reads a password and prints its scrypt hash for a route's `auth.basic.users`.
import { hashPassword } from './filters/auth/password.ts'

/**
 * Reads one password from standard input (a terminal gets a prompt on stderr and no echo; a pipe's
 * first line is taken) and prints its hash on stdout. Returns the exit code: 0, or 2 when the
 * password is empty. The password is never taken from the arguments, where `ps` and shell history see it.
 */
export async function hashPasswordCommand(): Promise<number> {
  const password = process.stdin.isTTY ? await readHidden() : firstLine(await readAll())
  if (password === '') {
    process.stderr.write('portico: hash-password needs a password on standard input\n')
    return 2
  }
  process.stdout.write(`${await hashPassword(password)}\n`)
  return 0
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function firstLine(text: string): string {
  const end = text.search(/\r?\n/)
  return end === -1 ? text : text.slice(0, end)
}

/** Reads a line from the terminal without echoing it; Ctrl-C gives up with an empty password. */
function readHidden(): Promise<string> {
  const stdin = process.stdin
  process.stderr.write('Password: ')
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  return new Promise((resolve) => {
    let typed = ''
    const done = (text: string) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      resolve(text)
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(typed)
        if (ch === '\u0003') return done('')
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1)
        else typed += ch
      }
    }
    stdin.on('data', onData)
  })
}
