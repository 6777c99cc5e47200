/** `Example.COM:8080` → `example.com`; `[::1]:80` → `[::1]`: the host an authority names, lower case, without port. */
export function hostName(authority: string): string {
  const end = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':')
  return (end > 0 ? authority.slice(0, end) : authority).toLowerCase()
}
