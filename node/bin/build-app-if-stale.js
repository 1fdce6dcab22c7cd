#!/usr/bin/env node
// `npm start`'s prestart step: builds the app (pwa/ → pwa/dist) when it is missing or older than its
// sources, so that a fresh checkout serves the UI without a separate build command.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const built = join(root, 'pwa', 'dist', 'index.html')

function newest (path) {
  if (!existsSync(path)) return 0
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  let latest = info.mtimeMs
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)))
  return latest
}

const sources = Math.max(newest(join(root, 'pwa', 'src')), newest(join(root, 'pwa', 'index.html')), newest(join(root, 'pwa', 'public')), newest(join(root, 'protocol')), newest(join(root, 'vite.config.ts')))
if (existsSync(built) && statSync(built).mtimeMs >= sources) process.exit(0)

console.log('building the ScanHub app (pwa/ → pwa/dist) ...')
const result = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' })
if (result.status !== 0) {
  console.error('building the app failed: the peer starts anyway, without its UI (run `npm run build:pwa` to see why)')
}
