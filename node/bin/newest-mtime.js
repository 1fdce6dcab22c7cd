// The newest modification time under a set of paths: how the start-up scripts tell whether a build
// (the app in pwa/dist, the peer's code in dist/node) is older than its sources.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Milliseconds since the epoch of the newest file or folder under `paths` (0 when none exists). */
export function newestMtime (...paths) {
  let latest = 0
  for (const path of paths) {
    if (!existsSync(path)) continue
    const info = statSync(path)
    latest = Math.max(latest, info.mtimeMs)
    if (info.isDirectory()) {
      for (const entry of readdirSync(path)) latest = Math.max(latest, newestMtime(join(path, entry)))
    }
  }
  return latest
}
