import { extname } from 'node:path'

const utf8 = '; charset=utf-8'

// The types browsers need right to render, run or download a site's files.
const types: Readonly<Record<string, string>> = {
  '.html': `text/html${utf8}`,
  '.htm': `text/html${utf8}`,
  '.css': `text/css${utf8}`,
  '.js': `text/javascript${utf8}`,
  '.mjs': `text/javascript${utf8}`,
  '.json': `application/json${utf8}`,
  '.map': `application/json${utf8}`,
  '.webmanifest': `application/manifest+json${utf8}`,
  '.txt': `text/plain${utf8}`,
  '.md': `text/markdown${utf8}`,
  '.csv': `text/csv${utf8}`,
  '.xml': `application/xml${utf8}`,
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
}

/** The Content-Type for a file name by its extension (case-insensitive); `application/octet-stream` when unknown. */
export function mimeType(file: string): string {
  return types[extname(file).toLowerCase()] ?? 'application/octet-stream'
}
