#!/usr/bin/env node
// `npm start`'s prestart step: builds the app (pwa/ → pwa/dist) when it is missing or older than its
// sources, so that a fresh checkout serves the UI without a separate build command.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestMtime } from './newest-mtime.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const built = join(root, 'pwa', 'dist', 'index.html')

const sources = newestMtime(...['pwa/src', 'pwa/index.html', 'pwa/public', 'protocol', 'vite.config.ts'].map((p) => join(root, p)))
if (existsSync(built) && statSync(built).mtimeMs >= sources) process.exit(0)

console.log('building the ScanHub app (pwa/ → pwa/dist) ...')
const result = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' })
if (result.status !== 0) {
  console.error('building the app failed: the peer starts anyway, without its UI (run `npm run build:pwa` to see why)')
}
