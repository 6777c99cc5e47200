import { existsSync } from 'node:fs'

/** Where `portico run` and `portico validate` look for a config when not given `-c`. */
export const systemConfigFile = '/etc/portico/portico.yaml'

/**
 * The config file to use when `-c` is not given: the file named by `PORTICO_CONFIG`, else /etc/portico/portico.yaml
 * (where the Debian package and the systemd unit keep it); undefined when that file does not exist, and `run` then
 * starts the demo.
 */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.PORTICO_CONFIG || systemConfigFile
  return existsSync(file) ? file : undefined
}
